"""Traces: the app's own spans beside its sidecar's, one trace per request across calls and events.

Dapr's sidecars make a span for every call and delivery they carry (config/*.yaml `tracing`, sent to
the trace backend over OTLP) and join the caller's trace when handed its W3C `traceparent`. The app
adds its own spans with the OpenTelemetry SDK: a server span per request (FastAPI's instrumentation,
which reads the `traceparent` the sidecar delivers), and the current context goes out with every call
through the sidecar (HTTP headers, gRPC metadata) and inside every event the app stages, because the
outbox publishes after the request is gone (`publishing`, under the context the event was staged in).

Without `OTEL_EXPORTER_OTLP_ENDPOINT` no span is recorded, but a context that arrives still goes on.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from starlette.types import ASGIApp, Receive, Scope, Send

TRACEPARENT = "traceparent"
REQUEST_ID_ATTRIBUTE = "junction.request_id"
"""The span attribute holding a request's X-Request-ID: the trace UI finds a request's trace by it."""
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})
_SIDECAR_TOKEN = b"dapr-api-token"
_CLIENT_HEADERS = frozenset({b"user-agent"})
_HIDDEN = "junction.hidden_from_spans"
"""Where the public edge keeps, in the ASGI scope, what it hid from the server span until the app gets it back."""
_TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
EXPORT_TIMEOUT_SECONDS = 2
"""How long one export to the trace backend may take: a backend that is down never holds an app's stop."""

tracer = trace.get_tracer("servicekit")


def configure_tracing(app_id: str, endpoint: str | None) -> TracerProvider | None:
    """Record this process's spans as `app_id` and send them to the OTLP/gRPC `endpoint`; None: record none.

    Spans leave in batches from a background thread; when the backend is slow or down the batch queue
    (2,048 spans) drops the newest, so tracing never holds a request nor grows the app's memory.
    """
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": app_id}))
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=EXPORT_TIMEOUT_SECONDS)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter").setLevel(logging.ERROR)
    return provider


def current_trace_id() -> str | None:
    """The trace this code runs in, as 32 hex digits (what the trace UI searches for); None outside any."""
    span_context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(span_context.trace_id) if span_context.is_valid else None


def inject_trace(carrier: MutableMapping[str, str]) -> None:
    """Add the current trace context (`traceparent`, `tracestate`) to outgoing headers or metadata."""
    propagate.inject(carrier)


def current_traceparent() -> str | None:
    """The current context as one W3C `traceparent`, what an event carries to its publisher."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


@contextmanager
def publishing(topic: str, traceparent: str | None) -> Iterator[None]:
    """A producer span for one publish, in the trace the event was staged in (if it carries one)."""
    if not traceparent:  # staged outside any trace: no lone root span per publish
        yield
        return
    parent = propagate.extract({TRACEPARENT: traceparent})
    with tracer.start_as_current_span(f"publish {topic}", context=parent, kind=trace.SpanKind.PRODUCER):
        yield


def valid_traceparent(value: str | None) -> str | None:
    """`value` if it is a W3C traceparent of version 00, else None (an event from elsewhere may carry anything)."""
    return value if value is not None and _TRACEPARENT.fullmatch(value) else None


class UntrustedTraceContext:
    """At the public edge, drop the client's trace headers: every public request starts a trace of our own.

    A client could otherwise join its requests to any trace it names, or send a sampled flag for all.
    Only the app's own sidecar (its event deliveries) keeps the `traceparent`, `tracestate` and `baggage`
    it sends, and only when it shows the app's token (`dapr-api-token`, APP_API_TOKEN): this runs before
    the token check, and anyone may post to `/events/…` and be refused there after a span was recorded.
    """

    def __init__(self, app: ASGIApp, *, sidecar_token: str | None) -> None:
        self.app = app
        self.sidecar_token = sidecar_token.encode() if sidecar_token is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._from_sidecar(scope):
            headers = [pair for pair in scope["headers"] if pair[0].lower() not in _TRACE_HEADERS]
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)

    def _from_sidecar(self, scope: Scope) -> bool:
        presented = next((bytes(value) for name, value in scope["headers"] if name.lower() == _SIDECAR_TOKEN), b"")
        return self.sidecar_token is not None and hmac.compare_digest(presented, self.sidecar_token)


class ClientHiddenFromSpans:
    """At the public edge, keep the client's address and port, its user agent and the query string out of the
    server span (`client.address`, `net.peer.ip`, `user_agent.original`, `http.url`'s and `http.target`'s query).

    The instrumentation records what it finds in the ASGI scope as it starts the span: this hides those from
    it, and `ClientShownToApp`, the app's outermost middleware (just inside the instrumentation), gives them
    back, so the app itself (rate limits, logs, routes) sees the request whole.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hidden = {key: scope[key] for key in ("client", "query_string", "headers") if key in scope}
            headers = [pair for pair in scope["headers"] if pair[0].lower() not in _CLIENT_HEADERS]
            scope = {**scope, "client": None, "query_string": b"", "headers": headers, _HIDDEN: hidden}
        await self.app(scope, receive, send)


class ClientShownToApp:
    """Give the app back what `ClientHiddenFromSpans` hid from the server span, which has started by then."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hidden = scope.pop(_HIDDEN, None)
        if hidden is not None:
            scope.update(hidden)  # in place: the scope the instrumentation holds is the app's, as without hiding
        await self.app(scope, receive, send)
