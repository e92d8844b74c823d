// One trace as a waterfall: a row per span, indented under its parent, a bar placed by its start and sized by its
// duration, errors in red. Read through the gateway (GET /admin/traces), which asks Jaeger's query API.
import { Polled, html, shortId } from "./view.js";

const DEEPEST = 12; // indentation stops here; deeper spans still show their parent's id on hover

/** The spans in tree order (each after its parent, siblings by start), with their depth. */
export function tree(spans) {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = ids.has(span.parentId) ? span.parentId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const rows = [];
  const visit = (parent, depth) => {
    for (const span of children.get(parent) ?? []) {
      rows.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}

function describe(span) {
  const tags = Object.entries(span.tags).map(([key, value]) => `${key}=${value}`);
  return [`${span.service} · ${span.operation}`, span.kind, `parent ${span.parentId ?? "none"}`, ...tags]
    .filter(Boolean)
    .join("\n");
}

function Bar({ span, total }) {
  // An SVG rect, not a style attribute: the page's policy (style-src 'self') refuses inline styles.
  const scale = total > 0 ? 100 / total : 0;
  const width = Math.max(span.durationMs * scale, 0.4);
  return html`<svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
    <rect x=${Math.min(span.startMs * scale, 100 - width)} y="0" width=${width} height="4" />
  </svg>`;
}

export class TracePanel extends Polled {
  id = "trace";
  every = 3000; // spans of the deliveries keep arriving for a few seconds after the request
  wide = true;

  get title() {
    const { requestId, traceId } = this.props.wanted;
    return traceId ? `Trace ${shortId(traceId)}` : `Trace of request ${shortId(requestId)}`;
  }

  componentDidMount() {
    super.componentDidMount();
    document.getElementById(this.id)?.scrollIntoView({ block: "start" });
  }

  load() {
    const { requestId, traceId } = this.props.wanted;
    return traceId
      ? this.props.api.call("GET", `/admin/traces/${encodeURIComponent(traceId)}`)
      : this.props.api.call("GET", `/admin/traces?requestId=${encodeURIComponent(requestId)}`);
  }

  actions() {
    return html`<button type="button" class="quiet" data-action="close" onClick=${this.props.onClose}>Close</button>`;
  }

  body(trace) {
    return html`
      <p class="muted">
        <code>${trace.traceId}</code>${` · ${trace.spans.length} spans · ${trace.durationMs.toFixed(1)} ms · `}
        ${trace.services.join(", ")}${trace.truncated ? " · only the first spans" : ""}
      </p>
      <ol class="waterfall">
        ${tree(trace.spans).map(({ span, depth }) => html`<li
          class=${span.error ? "error" : ""} data-service=${span.service} data-span-id=${span.spanId}
          title=${describe(span)}>
          <span class="what">
            ${Array.from({ length: Math.min(depth, DEEPEST) }, () => html`<i class="indent"></i>`)}
            <span class="service">${span.service}</span> <span class="operation">${span.operation}</span>
          </span>
          <${Bar} span=${span} total=${trace.durationMs} />
          <span class="took">${span.durationMs.toFixed(1)} ms</span>
        </li>`)}
      </ol>`;
  }
}
