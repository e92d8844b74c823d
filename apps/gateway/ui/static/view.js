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

/** What a trace link does: open the page's trace view (traces.js) on a request id or a trace id; app.js sets it. */
export const traceView = { open: () => {} };

/**
 * A request's or an error's trace: a button that opens it in the page (read through the gateway from Jaeger's
 * query API), and a link to the same trace in Jaeger's own UI when the gateway names one (TRACE_UI_URL; the Jaeger
 * built from its Go module answers a placeholder page there, docker-compose's image the trace).
 */
export function TraceLink({ requestId, traceId, label = "trace" }) {
  if (!requestId && !traceId) return null;
  const href = traceHref({ requestId, traceId });
  return html`<span class="trace">
    <button type="button" class="link" data-action="trace" onClick=${() => traceView.open({ requestId, traceId })}>
      ${label}</button>
    ${href ? html`<a class="external" href=${href} target="_blank" rel="noopener noreferrer"
      title="the same trace in Jaeger's own UI">jaeger</a>` : null}
  </span>`;
}

export function traceHref({ requestId, traceId }) {
  if (!links.traces) return null;
  if (traceId) return `${links.traces}/trace/${encodeURIComponent(traceId)}`;
  if (!requestId) return null;
  // The gateway's request span carries the request id (servicekit.tracing's junction.request_id).
  const tags = encodeURIComponent(JSON.stringify({ "junction.request_id": requestId }));
  return `${links.traces}/search?service=gateway&lookback=2d&limit=20&tags=${tags}`;
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
        ${this.actions?.()}
      </header>
      <${Problem} error=${error} />
      ${data === null ? null : html`<div class=${error ? "stale" : ""}>${this.body(data)}</div>`}
    </section>`;
  }
}
