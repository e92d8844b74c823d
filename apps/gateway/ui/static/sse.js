// Server-Sent Events read with fetch(): EventSource cannot send an Authorization header, and the admin's
// token must not travel in a URL. `SseParser` follows the HTML standard's event-stream interpretation;
// `LiveFeed` keeps one stream open, reconnecting with a growing pause.

export class SseParser {
  constructor() {
    this.buffer = "";
    this.data = [];
    this.type = "";
    this.lastId = "";
    this.retry = null;
  }

  /** Take the next decoded chunk; return the events it completed, as {type, data, id}. */
  push(chunk) {
    this.buffer += chunk;
    const events = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const char = this.buffer[i];
      if (char !== "\n" && char !== "\r") continue;
      if (char === "\r" && i + 1 === this.buffer.length) break; // a CRLF split across chunks: wait for the LF
      const line = this.buffer.slice(start, i);
      if (char === "\r" && this.buffer[i + 1] === "\n") i++;
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment: the server's keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.type = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }

  dispatch() {
    const { data, type } = this;
    this.data = [];
    this.type = "";
    if (data.length === 0) return null;
    return { type: type || "message", data: data.join("\n"), id: this.lastId };
  }
}

const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 30000;

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

export class LiveFeed {
  /** `onEvent({type, data, id})` per event; `onStatus({state, error})`: connecting, live, retrying, stopped. */
  constructor(api, path, { onEvent, onStatus }) {
    this.api = api;
    this.path = path;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.controller = null;
  }

  start() {
    this.stop();
    this.controller = new AbortController();
    this.run(this.controller.signal);
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  async run(signal) {
    let wait = FIRST_PAUSE_MS;
    while (!signal.aborted) {
      this.onStatus({ state: "connecting", error: null });
      try {
        const response = await this.api.stream(this.path, signal);
        this.onStatus({ state: "live", error: null });
        wait = FIRST_PAUSE_MS;
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            // The token ran out: the stream ends, and the next connection's 401 signs the page out.
            if (event.type !== "expired") this.onEvent(event);
          }
        }
        if (parser.retry !== null) wait = parser.retry;
        this.onStatus({ state: "retrying", error: null });
      } catch (error) {
        if (signal.aborted) break;
        if (error.status === 401 || error.status === 403) {
          this.onStatus({ state: "stopped", error });
          return;
        }
        this.onStatus({ state: "retrying", error });
      }
      await pause(wait, signal);
      wait = Math.min(wait * 2, LONGEST_PAUSE_MS);
    }
    this.onStatus({ state: "stopped", error: null });
  }
}
