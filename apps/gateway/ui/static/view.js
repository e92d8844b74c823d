// What every section shares. Preact + htm, imported as plain ES modules from /ui/vendor/ (why this stack:
// apps/gateway/ui/__init__.py): `html` is markup in tagged template literals, with no build step and no eval.
import { Component, h, render } from "./vendor/preact.mjs";
import htm from "./vendor/htm.mjs";

export const html = htm.bind(h);
export { Component, render };

/** Where the page's links go, set once from /ui/config.json. */
export const links = { traces: null, docs: "/docs" };

export function clock(value) {
  if (!value) return "—";
  const moment = value instanceof Date ? value : new Date(value);
  return Number.isNaN(moment.getTime()) ? String(value) : moment.toLocaleTimeString([], { hour12: false });
}

export function ago(value) {
  if (!value) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(value).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return clock(value);
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : "—";
}

export function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function money(amount) {
  return typeof amount === "number" ? amount.toFixed(2) : "—";
}

const TONES = {
  ok: "good", up: "good", closed: "good", ACTIVE: "good", CONFIRMED: "good", REPLAYED: "good", live: "good",
  PENDING: "warn", PENDING_PAYMENT: "warn", PROVISIONING: "warn", unknown: "warn", connecting: "warn",
  retrying: "warn", FAILED_AGAIN: "bad", down: "bad", open: "bad", unavailable: "bad", FAILED: "bad",
  CANCELLED: "bad", EXPIRED: "muted", stopped: "bad",
};

export function tone(value) {
  return TONES[value] ?? "muted";
}

export function Pill({ value, children }) {
  return html`<span class="pill ${tone(value)}">${children ?? value}</span>`;
}

/**
 * Links to the trace a request or an error belongs to: in the trace UI, and the same search in Jaeger's query
 * API (JSON), which answers even where the UI is not built in (tools/jaeger's binary serves a placeholder page).
 * Nothing when the gateway was given no trace UI.
 */
export function TraceLink({ requestId, traceId, label = "trace" }) {
  const href = traceHref({ requestId, traceId });
  if (!href) return null;
  const json = traceHref({ requestId, traceId, api: true });
  return html`<span class="trace"><a href=${href} target="_blank" rel="noopener noreferrer">${label}</a>
    <a class="json" href=${json} target="_blank" rel="noopener noreferrer" title="the same, from the query API">json</a>
  </span>`;
}

export function traceHref({ requestId, traceId, api = false }) {
  if (!links.traces) return null;
  const base = api ? `${links.traces}/api` : links.traces;
  if (traceId) return `${base}/trace${api ? "s" : ""}/${encodeURIComponent(traceId)}`;
  if (!requestId) return null;
  // The gateway's request span carries the request id (servicekit.tracing's junction.request_id).
  const tags = encodeURIComponent(JSON.stringify({ "junction.request_id": requestId }));
  return api
    ? `${base}/traces?service=gateway&lookback=2d&limit=20&tags=${tags}`
    : `${base}/search?service=gateway&lookback=2d&limit=20&tags=${tags}`;
}

/** The message of a failed call, as the gateway's error envelope gave it. */
export function Problem({ error }) {
  if (!error) return null;
  return html`<p class="problem" role="alert">
    ${error.message}${error.code ? html` <code>${error.code}</code>` : null}
    ${error.traceId ? html` <${TraceLink} traceId=${error.traceId} />` : null}
  </p>`;
}

/**
 * A section that loads itself every `every` ms and on `refresh()`. A failure shows its message over the last
 * data it had (marked stale), and never touches another section.
 */
export class Polled extends Component {
  constructor(props) {
    super(props);
    this.state = { data: null, error: null, at: null };
    this.loading = false;
    this.again = false;
  }

  componentDidMount() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), this.every);
  }

  componentWillUnmount() {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.gone = true;
  }

  /** Refresh shortly: many events in a burst cost one call. */
  refreshSoon() {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => this.refresh(), 300);
  }

  async refresh() {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    try {
      const data = await this.load();
      if (!this.gone) this.setState({ data, error: null, at: new Date() });
    } catch (error) {
      if (!this.gone) this.setState({ error });
    } finally {
      this.loading = false;
      if (this.again && !this.gone) {
        this.again = false;
        this.refresh();
      }
    }
  }

  render() {
    const { data, error, at } = this.state;
    const state = error ? "error" : data === null ? "loading" : "ok";
    return html`<section class="card ${this.wide ? "wide" : ""}" id=${this.id} data-state=${state}>
      <header>
        <h2>${this.title}</h2>
        <span class="muted">${at ? `updated ${clock(at)}` : "loading…"}</span>
        <button type="button" class="quiet" onClick=${() => this.refresh()}>Refresh</button>
      </header>
      <${Problem} error=${error} />
      ${data === null ? null : html`<div class=${error ? "stale" : ""}>${this.body(data)}</div>`}
    </section>`;
  }
}
