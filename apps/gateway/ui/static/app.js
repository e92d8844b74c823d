// The operator page: sign in as an admin, then every section loads on its own (see view.js's Polled).
import { Api } from "./api.js";
import { Feed, KEPT } from "./feed.js";
import { DeadLetters } from "./letters.js";
import { Orders } from "./orders.js";
import { Services } from "./services.js";
import { LiveFeed } from "./sse.js";
import { Tenants } from "./tenants.js";
import { TracePanel } from "./traces.js";
import { Component, Problem, html, links, render, traceView } from "./view.js";

const api = new Api();
const FEED = "/admin/events/stream";
const TRACE_ID = /^[0-9a-f]{32}$/i;
const REMEMBERED = 1000; // orders whose placing request the page keeps, for their trace links
let arrivals = 0; // events received since the page loaded

class Login extends Component {
  constructor(props) {
    super(props);
    this.state = { busy: false, error: null };
  }

  submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    this.setState({ busy: true, error: null });
    try {
      await this.props.onSignIn(String(form.get("email")), String(form.get("password")));
    } catch (error) {
      this.setState({ busy: false, error });
    }
  };

  render() {
    return html`<form class="card login" id="login" method="post" onSubmit=${this.submit}>
      <h1>Junction operator</h1>
      <p class="muted">Sign in with an admin account.</p>
      ${this.props.notice ? html`<p class="note">${this.props.notice}</p>` : null}
      <label>Email <input name="email" type="email" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <button type="submit" disabled=${this.state.busy}>${this.state.busy ? "Signing in…" : "Sign in"}</button>
      <${Problem} error=${this.state.error} />
    </form>`;
  }
}

class TraceFinder extends Component {
  constructor(props) {
    super(props);
    this.state = { query: "" };
  }

  submit = (event) => {
    event.preventDefault();
    const query = this.state.query.trim();
    if (query) traceView.open(TRACE_ID.test(query) ? { traceId: query.toLowerCase() } : { requestId: query });
  };

  render() {
    return html`<form class="finder" id="find-trace" onSubmit=${this.submit}>
      <input aria-label="a request id or a trace id" placeholder="request id or trace id" value=${this.state.query}
        onInput=${(event) => this.setState({ query: event.target.value })} />
      <button type="submit" class="quiet">Find the trace</button>
    </form>`;
  }
}

class App extends Component {
  constructor(props) {
    super(props);
    this.state = { ready: false, notice: null, events: [], trace: null, status: { state: "connecting", error: null } };
    this.requests = new Map(); // order id -> the request id that placed it, learnt from the feed
    this.feed = new LiveFeed(api, FEED, {
      onEvent: (event) => this.received(event),
      onStatus: (status) => this.setState({ status }),
    });
  }

  componentDidMount() {
    api.onExpired = () => this.signOut("Your session ended: sign in again.");
    traceView.open = (wanted) => this.setState({ trace: wanted });
    if (api.token) this.start().catch((error) => this.signOut(error.message));
  }

  async start() {
    const config = await api.config();
    links.traces = config.traceUiUrl;
    links.docs = config.apiDocsUrl;
    this.setState({ ready: true, notice: null });
    this.feed.start();
  }

  signIn = async (email, password) => {
    await api.login(email, password);
    try {
      await this.start();
    } catch (error) {
      api.forget();
      throw error;
    }
  };

  signOut(notice = null) {
    this.feed.stop();
    api.forget();
    this.requests.clear();
    this.setState({ ready: false, notice, events: [], trace: null });
  }

  received({ type, data }) {
    let item;
    try {
      item = JSON.parse(data);
    } catch {
      return;
    }
    if (type === "missed") item = { type, missed: item.missed };
    arrivals += 1;
    item.arrival = arrivals; // the feed's key: the list grows at its top, and each entry keeps its element
    const order = item.ids?.orderId;
    if (order && item.requestId && (item.type === "order.created" || !this.requests.has(order))) {
      this.requests.set(order, item.requestId);
      if (this.requests.size > REMEMBERED) this.requests.delete(this.requests.keys().next().value);
    }
    this.setState(({ events }) => ({ events: [item, ...events].slice(0, KEPT) }));
    if (type.startsWith("order.") || type.startsWith("payment.")) this.orders?.refreshSoon();
    if (type.startsWith("tenant.")) this.tenants?.refreshSoon();
  }

  render() {
    if (!this.state.ready) return html`<${Login} onSignIn=${this.signIn} notice=${this.state.notice} />`;
    const { trace } = this.state;
    return html`
      <header class="top">
        <h1>Junction <span class="muted">operator</span></h1>
        <nav>
          <a href=${links.docs} target="_blank" rel="noopener noreferrer">API docs</a>
          ${links.traces ? html`<a href=${links.traces} target="_blank" rel="noopener noreferrer">Jaeger</a>` : null}
          <${TraceFinder} />
          <span class="who">${api.email}</span>
          <button type="button" class="quiet" id="sign-out" onClick=${() => this.signOut()}>Sign out</button>
        </nav>
      </header>
      <div class="grid">
        ${trace ? html`<${TracePanel} key=${JSON.stringify(trace)} api=${api} wanted=${trace}
          onClose=${() => this.setState({ trace: null })} />` : null}
        <${Services} api=${api} />
        <${Orders} api=${api} requests=${this.requests} ref=${(section) => (this.orders = section)} />
        <${Feed} events=${this.state.events} status=${this.state.status} />
        <${DeadLetters} api=${api} />
        <${Tenants} api=${api} ref=${(section) => (this.tenants = section)} />
      </div>`;
  }
}

render(html`<${App} />`, document.getElementById("app"));
