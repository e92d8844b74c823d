// The gateway's JSON API as the signed-in admin: every answer is the one envelope, every failure an ApiError
// carrying the envelope's message, code, request id and trace id.

const TOKEN = "junction.operator.token";
const EMAIL = "junction.operator.email";
const API = "/api/v1";

export class ApiError extends Error {
  constructor(message, { code = null, status = 0, requestId = null, traceId = null } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.traceId = traceId;
  }
}

async function failure(response) {
  let envelope = null;
  try {
    envelope = await response.json();
  } catch {
    // not an envelope: a proxy's page, say
  }
  const error = envelope?.error ?? {};
  return new ApiError(error.message ?? `The gateway answered ${response.status}.`, {
    code: error.code ?? null,
    status: response.status,
    requestId: envelope?.requestId ?? response.headers.get("X-Request-ID"),
    traceId: envelope?.traceId ?? null,
  });
}

export class Api {
  // The token lives in this tab's sessionStorage: it survives a reload, not the tab, and never goes in a URL.
  constructor(storage = window.sessionStorage) {
    this.storage = storage;
    this.onExpired = () => {};
  }

  get token() {
    return this.storage.getItem(TOKEN);
  }

  get email() {
    return this.storage.getItem(EMAIL);
  }

  forget() {
    this.storage.removeItem(TOKEN);
    this.storage.removeItem(EMAIL);
  }

  async login(email, password) {
    const data = await this.send("POST", `${API}/auth/login`, { email, password }, { anonymous: true });
    this.storage.setItem(TOKEN, data.accessToken);
    this.storage.setItem(EMAIL, email);
  }

  /** Where the page's links go (admins only: a customer's token is refused here, before any section loads). */
  config() {
    return this.send("GET", "/ui/config.json");
  }

  call(method, path, body) {
    return this.send(method, `${API}${path}`, body);
  }

  /** Open a streaming response (the live feed); the caller reads its body. */
  async stream(path, signal) {
    const response = await this.fetch("GET", `${API}${path}`, undefined, { signal, accept: "text/event-stream" });
    if (!response.ok) throw await this.refused(response);
    return response;
  }

  async send(method, url, body, options = {}) {
    const response = await this.fetch(method, url, body, options);
    if (!response.ok) throw await this.refused(response);
    let envelope;
    try {
      envelope = await response.json();
    } catch {
      throw new ApiError(`The gateway answered ${response.status} without an envelope.`, { status: response.status });
    }
    return envelope.data;
  }

  async fetch(method, url, body, { anonymous = false, signal, accept = "application/json" } = {}) {
    const headers = { Accept: accept };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (!anonymous && this.token) headers.Authorization = `Bearer ${this.token}`;
    try {
      return await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: "no-store",
        credentials: "omit",
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError("The gateway did not answer: is it running?", { code: "NO_ANSWER" });
    }
  }

  async refused(response) {
    const error = await failure(response);
    if (response.status === 401 && this.token) this.onExpired(error);
    return error;
  }
}
