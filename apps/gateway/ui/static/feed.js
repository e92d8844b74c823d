// The latest events, as the live feed (GET /admin/events/stream) delivers them: type, time, ids, request id.
import { Component, Pill, Problem, TraceLink, clock, html, shortId } from "./view.js";

export const KEPT = 50;

function ids(event) {
  return html`<span class="ids">${Object.entries(event.ids ?? {}).map(
    ([name, value]) => html`<span class="id">${name} <code title=${String(value)}>
      ${Array.isArray(value) ? value.map(shortId).join(", ") : shortId(value)}</code></span>`,
  )}</span>`;
}

export class Feed extends Component {
  render() {
    const { events, status } = this.props;
    return html`<section class="card" id="feed" data-state=${status.state}>
      <header>
        <h2>Live events</h2>
        <${Pill} value=${status.state} />
        <span class="muted">the newest ${KEPT}, from the moment this page connected</span>
      </header>
      <${Problem} error=${status.error} />
      ${events.length === 0 ? html`<p class="muted">No event yet.</p>` : null}
      <ol class="events">
        ${events.map((event) =>
          event.type === "missed"
            ? html`<li key=${event.arrival} class="missed">${event.missed} events missed (the page fell behind)</li>`
            : html`<li key=${event.arrival} data-event-id=${event.eventId} data-type=${event.type} data-order-id=${event.ids?.orderId}>
                <span class="time">${clock(event.occurredAt)}</span>
                <${Pill} value=${event.type.endsWith("failed") || event.type.endsWith("cancelled") ? "FAILED" : "ok"}>
                  ${event.type}<//>
                ${ids(event)}
                <${TraceLink} requestId=${event.requestId} />
              </li>`,
        )}
      </ol>
    </section>`;
  }
}
