// Dead letters (GET /admin/dead-letters): the events a subscriber gave up on. Inspect one, replay it as it
// was, or replay it with a corrected payload (POST /admin/dead-letters/{id}/replay {"payload": …}); a
// replayed letter leaves the list of those waiting, and a replay that fails again comes back as a new one.
import { ApiError } from "./api.js";
import { Pill, Polled, Problem, clock, html, shortId } from "./view.js";

const WAITING = "PENDING";

function payloadOf(letter) {
  const data = letter.cloudEvent?.data;
  return JSON.stringify(data && typeof data === "object" ? (data.payload ?? {}) : {}, null, 2);
}

function parsePayload(text) {
  let payload;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new ApiError(`The corrected payload is not JSON: ${error.message}`, { code: "NOT_JSON" });
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new ApiError("The corrected payload must be a JSON object.", { code: "NOT_AN_OBJECT" });
  }
  return payload;
}

export class DeadLetters extends Polled {
  id = "dead-letters";
  title = "Dead letters";
  every = 5000;
  wide = true;

  async load() {
    return this.props.api.call("GET", "/admin/dead-letters?limit=100");
  }

  inspect(letter) {
    const open = this.state.open === letter.id ? null : letter.id;
    this.setState({ open, draft: payloadOf(letter), outcome: null, failed: null });
  }

  async replay(letter, corrected) {
    let body;
    try {
      body = corrected ? { payload: parsePayload(this.state.draft) } : undefined;
    } catch (error) {
      this.setState({ failed: error });
      return;
    }
    this.setState({ busy: letter.id, failed: null, outcome: null });
    try {
      const done = await this.props.api.call("POST", `/admin/dead-letters/${encodeURIComponent(letter.id)}/replay`, body);
      const how = corrected ? "with the corrected payload" : "as it was";
      // The row takes the replay's answer at once: until the refresh lands it would still wait with a Replay
      // button that only gets a refusal (and hides this outcome).
      this.setState(({ data }) => ({
        open: null,
        outcome: `Replayed ${shortId(done.id)} to ${done.subscriber ?? "its topic"} ${how}.`,
        data: data && { ...data, items: data.items.map((item) => (item.id === done.id ? done : item)) },
      }));
    } catch (error) {
      this.setState({ failed: error });
    } finally {
      this.setState({ busy: null });
      this.refresh();
    }
  }

  detail(letter) {
    return html`<tr key=${`detail-${letter.id}`} class="detail" data-detail-of=${letter.id}><td colspan="8">
      <div class="inspect">
        <div>
          <h4>The event as it arrived</h4>
          <pre>${JSON.stringify(letter.cloudEvent, null, 2)}</pre>
        </div>
        <div>
          <label for="payload-${letter.id}"><h4>Corrected payload (JSON)</h4></label>
          <textarea id="payload-${letter.id}" name="payload" rows="12" spellcheck="false"
            value=${this.state.draft} onInput=${(event) => this.setState({ draft: event.target.value })}></textarea>
          <button type="button" disabled=${this.state.busy === letter.id} data-action="replay-corrected"
            onClick=${() => this.replay(letter, true)}>Replay with this payload</button>
        </div>
      </div>
    </td></tr>`;
  }

  body(page) {
    const waiting = page.items.filter((letter) => letter.status === WAITING);
    const shown = this.state.all ? page.items : waiting;
    return html`
      <p class="toolbar">
        <strong data-waiting=${waiting.length}>${waiting.length} waiting</strong>
        <span class="muted">of ${page.total} kept</span>
        <label><input type="checkbox" checked=${!!this.state.all}
          onChange=${(event) => this.setState({ all: event.target.checked })} /> show replayed ones too</label>
      </p>
      ${this.state.outcome ? html`<p class="outcome" role="status">${this.state.outcome}</p>` : null}
      <${Problem} error=${this.state.failed} />
      ${shown.length === 0
        ? html`<p class="muted">No dead letter waiting.</p>`
        : html`<table>
          <thead><tr>
            <th>received</th><th>subscriber</th><th>topic</th><th>event</th><th>status</th><th>replays</th>
            <th>from</th><th></th>
          </tr></thead>
          <tbody>
            ${shown.flatMap((letter) => [
              html`<tr key=${letter.id} data-letter-id=${letter.id} data-event-id=${letter.eventId} data-status=${letter.status}
                data-subscriber=${letter.subscriber}>
                <td>${clock(letter.receivedAt)}</td>
                <td>${letter.subscriber ?? html`<span class="muted">shared</span>`}</td>
                <td><code>${letter.originalTopic ?? "?"}</code></td>
                <td><code title=${letter.eventId}>${shortId(letter.eventId)}</code></td>
                <td><${Pill} value=${letter.status} /></td>
                <td>${letter.replays}</td>
                <td>${letter.replayOf ? html`<code title="a failed replay of">${shortId(letter.replayOf)}</code>` : null}</td>
                <td class="actions">
                  <button type="button" class="quiet" data-action="inspect" onClick=${() => this.inspect(letter)}>
                    ${this.state.open === letter.id ? "Close" : "Inspect"}</button>
                  <button type="button" data-action="replay" disabled=${this.state.busy === letter.id}
                    onClick=${() => this.replay(letter, false)}>Replay</button>
                </td>
              </tr>`,
              ...(this.state.open === letter.id ? [this.detail(letter)] : []),
            ])}
          </tbody>
        </table>`}`;
  }
}
