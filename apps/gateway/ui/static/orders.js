// Orders by status and the latest orders: the admin dashboard (GET /admin/dashboard), whose every part
// answers `ok` or `unavailable` on its own, so one dead service blanks only its part here too.
import { Pill, Polled, Problem, TraceLink, clock, count, html, money, shortId, tone } from "./view.js";

const STATUSES = { PENDING_PAYMENT: "pending", CONFIRMED: "confirmed", CANCELLED: "cancelled", EXPIRED: "expired" };

function part(section, show) {
  return section?.status === "ok" ? show(section.data) : html`<${Problem} error=${section?.error ?? {}} />`;
}

export class Orders extends Polled {
  id = "orders";
  title = "Orders";
  every = 5000;

  load() {
    return this.props.api.call("GET", "/admin/dashboard");
  }

  body({ orders, reports }) {
    const requests = this.props.requests;
    return html`
      <div class="by-status">
        ${part(reports, (report) => html`
          ${Object.entries(STATUSES).map(
            ([status, label]) => {
              const number = report.ordersByStatus?.[status] ?? 0;
              return html`<div class="count ${number ? tone(status) : "muted"}" data-status=${status}>
                <span class="number">${number}</span><span class="label">${label}</span>
              </div>`;
            },
          )}
          <div class="count"><span class="number">${money(report.revenue)}</span><span class="label">revenue</span></div>
        `)}
      </div>
      <h3>Latest orders</h3>
      ${part(orders, (page) => html`<table>
        <thead><tr><th>order</th><th>status</th><th>total</th><th>lines</th><th>placed</th><th>trace</th></tr></thead>
        <tbody>
          ${page.items.map(
            (order) => html`<tr key=${order.id} data-order-id=${order.id} data-status=${order.status}>
              <td><code title=${order.id}>${shortId(order.id)}</code></td>
              <td><${Pill} value=${order.status} /></td>
              <td>${money(order.total)}</td>
              <td>${order.items.length}</td>
              <td>${clock(order.createdAt)}</td>
              <td>${requests.has(order.id)
                ? html`<${TraceLink} requestId=${requests.get(order.id)} />`
                : html`<span class="muted" title="placed before this page listened to the feed">—</span>`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <p class="muted">${count(page.total, "order")} in all.</p>`)}`;
  }
}
