// Services and sidecars: the gateway's registry (GET /gateway/services: state, health, breaker, as last seen),
// and every third refresh each sidecar's readiness report (GET /health/detailed, which asks every app now).
import { Pill, Polled, Problem, ago, html } from "./view.js";

const SIDECARS_EVERY = 3;

function sidecar(report) {
  if (!report) return html`<span class="muted">—</span>`;
  if (report.status !== "ok") return html`<${Pill} value="unavailable">${report.error?.code ?? "unavailable"}<//>`;
  const components = report.components ?? [];
  const names = components.map((component) => `${component.name} (${component.type})`).join(", ");
  const check = report.checks?.sidecar ?? report.status;
  return html`<span title=${names}><${Pill} value=${check === "ok" ? "ok" : "unavailable"}>${check}<//>
    <span class="muted"> ${components.length} components</span></span>`;
}

export class Services extends Polled {
  id = "services";
  title = "Services and sidecars";
  every = 5000;
  wide = true;
  rounds = 0;

  async load() {
    const registry = await this.props.api.call("GET", "/gateway/services");
    let { health = null, healthError = null } = this.state.data ?? {};
    if (this.rounds++ % SIDECARS_EVERY === 0) {
      try {
        health = await this.props.api.call("GET", "/health/detailed");
        healthError = null;
      } catch (error) {
        healthError = error;
      }
    }
    return { items: registry.items, health, healthError };
  }

  body({ items, health, healthError }) {
    const routed = new Set(items.map((item) => item.name));
    const unrouted = Object.keys(health?.services ?? {}).filter((name) => !routed.has(name));
    return html`
      ${healthError ? html`<div class="note">Sidecars: <${Problem} error=${healthError} /></div>` : null}
      <table>
        <thead><tr>
          <th>service</th><th>state</th><th>health</th><th>breaker</th><th>sidecar</th><th>last seen</th>
          <th>failures</th><th>last error</th><th>routes</th>
        </tr></thead>
        <tbody>
          <tr data-service="gateway">
            <td><strong>gateway</strong></td><td><${Pill} value="up" /></td><td><${Pill} value="ok" /></td>
            <td class="muted">—</td><td>${sidecar(health?.gateway)}</td><td class="muted">now</td><td>0</td>
            <td></td><td class="muted">the public edge</td>
          </tr>
          ${items.map(
            (item) => html`<tr key=${item.name} data-service=${item.name} data-state=${item.state}>
              <td><strong>${item.name}</strong></td>
              <td><${Pill} value=${item.state} /></td>
              <td><${Pill} value=${item.health} /></td>
              <td><${Pill} value=${item.breaker.state} /></td>
              <td>${sidecar(health?.services?.[item.name])}</td>
              <td>${ago(item.lastSeen)}</td>
              <td>${item.consecutiveFailures}</td>
              <td>${item.lastError ? html`<code>${item.lastError}</code>` : null}</td>
              <td class="routes">${item.routePrefixes.join(" ")}</td>
            </tr>`,
          )}
          ${unrouted.map(
            (name) => html`<tr key=${name} data-service=${name}>
              <td><strong>${name}</strong></td>
              <td colspan="3" class="muted">not routed by the gateway</td>
              <td>${sidecar(health.services[name])}</td>
              <td colspan="4"></td>
            </tr>`,
          )}
        </tbody>
      </table>`;
  }
}
