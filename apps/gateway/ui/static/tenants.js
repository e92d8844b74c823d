// Tenants (GET /tenants): each school's provisioning; a FAILED one can be provisioned again (POST /tenants/{id}/retry,
// which answers once the new attempt ends, or while it is still running).
import { Pill, Polled, Problem, clock, count, html } from "./view.js";

export class Tenants extends Polled {
  id = "tenants";
  title = "Tenants";
  every = 10000;
  wide = true;

  load() {
    return this.props.api.call("GET", "/tenants?limit=20");
  }

  async retry(tenant) {
    this.setState({ busy: tenant.id, failed: null, outcome: null });
    try {
      const done = await this.props.api.call("POST", `/tenants/${encodeURIComponent(tenant.id)}/retry`);
      // The row shows what the retry answered at once: until the refresh lands it would still say FAILED and
      // offer a Retry that only gets a 409 (and hides this outcome).
      this.setState(({ data }) => ({
        outcome: `${done.subdomain}: attempt ${done.attempts} is ${done.status}.`,
        data: data && { ...data, items: data.items.map((item) => (item.id === done.id ? { ...item, ...done } : item)) },
      }));
    } catch (error) {
      this.setState({ failed: error });
    } finally {
      this.setState({ busy: null });
      this.refresh();
    }
  }

  body(page) {
    return html`
      ${this.state.outcome ? html`<p class="outcome" role="status">${this.state.outcome}</p>` : null}
      <${Problem} error=${this.state.failed} />
      ${page.items.length === 0
        ? html`<p class="muted">No tenant yet: POST /api/v1/tenants creates one.</p>`
        : html`<table>
          <thead><tr>
            <th>school</th><th>subdomain</th><th>status</th><th>step</th><th>attempts</th><th>reason</th>
            <th>updated</th><th></th>
          </tr></thead>
          <tbody>
            ${page.items.map(
              (tenant) => html`<tr key=${tenant.id} data-tenant-id=${tenant.id} data-status=${tenant.status}>
                <td>${tenant.name}</td>
                <td><code>${tenant.subdomain}</code></td>
                <td><${Pill} value=${tenant.status} /></td>
                <td>${tenant.step}</td>
                <td>${tenant.attempts}</td>
                <td class="reason">${tenant.reason}</td>
                <td>${clock(tenant.updatedAt)}</td>
                <td class="actions">${tenant.status === "FAILED"
                  ? html`<button type="button" data-action="retry" disabled=${this.state.busy === tenant.id}
                      onClick=${() => this.retry(tenant)}>
                      ${this.state.busy === tenant.id ? "Retrying…" : "Retry"}</button>`
                  : null}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <p class="muted">${count(page.total, "tenant")} in all.</p>`}`;
  }
}
