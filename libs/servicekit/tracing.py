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
_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
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
    return value if value is not None and _TRACEPARENT.match(value) else None


class UntrustedTraceContext:
    """At the public edge, drop the client's trace headers: every public request starts a trace of our own.

    A client could otherwise join its requests to any trace it names, or send a sampled flag for all.
    Event deliveries (`trusted_prefixes`) come from the app's own sidecar, which the token checks, and
    keep theirs.
    """

    def __init__(self, app: ASGIApp, *, trusted_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.trusted_prefixes = trusted_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.trusted_prefixes):
            headers = [pair for pair in scope["headers"] if pair[0].lower() not in _TRACE_HEADERS]
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)
