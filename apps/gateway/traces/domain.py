"""One trace as the operator page draws it, read from Jaeger's JSON with no I/O: spans ordered by start, each
with its parent, service, operation, timing, error flag and a few safe tags.

Nothing else of a span leaves the gateway: only the tags in `SAFE_TAGS` are copied, and paths lose their query.
Headers, tokens, bodies, SQL, connection strings and client addresses stay in the trace backend, so a tag an
instrumentation adds later stays out of the page until someone adds it here on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from servicekit import DependencyUnavailable, NotFound
from servicekit.tracing import REQUEST_ID_ATTRIBUTE

SAFE_TAGS = frozenset(
    {
        "http.method",
        "http.request.method",
        "http.route",
        "http.target",
        "url.path",
        "http.status_code",
        "http.response.status_code",
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "rpc.grpc.status_code",
        "messaging.system",
        "messaging.destination",
        "messaging.destination.name",
        "dapr.api",
    }
)
"""The span tags a trace view may show; a path-like one loses its query string and fragment."""
_PATHS = frozenset({"http.target", "url.path", "http.route"})
MAX_TAG_LENGTH = 200
MAX_SPANS = 1000
"""The most spans one view carries (an order's trace has about a hundred); the rest are left out, and it says so."""


class TraceNotFound(NotFound):
    """Raised when the trace backend holds no trace with this id, or none whose gateway span has this request id."""

    default_code = "TRACE_NOT_FOUND"


class TracesUnavailable(DependencyUnavailable):
    """Raised when the trace backend did not answer in time or usably, or the gateway was given none
    (TRACE_QUERY_URL unset)."""

    default_code = "TRACES_UNAVAILABLE"


@dataclass(frozen=True)
class SpanView:
    span_id: str
    parent_id: str | None
    service: str
    operation: str
    kind: str | None
    start_ms: float
    """Milliseconds from the start of the trace's first span."""
    duration_ms: float
    error: bool
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TraceView:
    trace_id: str
    duration_ms: float
    services: list[str]
    """Every service with a span in the trace, in the order of their first span."""
    spans: list[SpanView]
    truncated: bool = False


class TraceStore(Protocol):
    """Where the gateway reads traces (apps.gateway.traces.jaeger); raises TraceNotFound or TracesUnavailable."""

    async def trace(self, trace_id: str) -> TraceView: ...

    async def by_request(self, request_id: str) -> TraceView: ...


class NoTraceStore:
    """The trace store of a gateway given no trace backend (TRACE_QUERY_URL unset): every read is a 503."""

    async def trace(self, trace_id: str) -> TraceView:
        raise TracesUnavailable("The gateway was given no trace backend (TRACE_QUERY_URL).")

    async def by_request(self, request_id: str) -> TraceView:
        raise TracesUnavailable("The gateway was given no trace backend (TRACE_QUERY_URL).")


def _tags(span: Mapping[str, Any]) -> dict[str, Any]:
    tags = span.get("tags")
    if not isinstance(tags, list):
        return {}
    return {tag["key"]: tag.get("value") for tag in tags if isinstance(tag, dict) and isinstance(tag.get("key"), str)}


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:MAX_TAG_LENGTH] if isinstance(value, str | int | float) else None


def safe_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """The tags a view may show (SAFE_TAGS), as text; paths without their query."""
    kept: dict[str, str] = {}
    for key in sorted(SAFE_TAGS & tags.keys()):
        text = _text(tags[key])
        if text is not None:
            kept[key] = text.split("?", 1)[0].split("#", 1)[0] if key in _PATHS else text
    return kept


def _is_error(tags: Mapping[str, Any]) -> bool:
    return tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).upper() == "ERROR"


def _parent(span: Mapping[str, Any], trace_id: str) -> str | None:
    for reference in span.get("references") or ():
        if isinstance(reference, dict) and reference.get("traceID") == trace_id and reference.get("spanID"):
            return str(reference["spanID"])
    return None


def _service(span: Mapping[str, Any], processes: Mapping[str, Any]) -> str:
    process = processes.get(span.get("processID", "")) or span.get("process") or {}
    return str(process.get("serviceName") or "unknown")


def _processes(trace: Mapping[str, Any]) -> Mapping[str, Any]:
    processes = trace.get("processes")
    return processes if isinstance(processes, dict) else {}


def _micros(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def trace_view(trace: Mapping[str, Any]) -> TraceView:
    """The view of one trace in Jaeger's JSON (`/api/traces/{id}`'s `data[0]`), spans ordered by start."""
    trace_id = str(trace.get("traceID", ""))
    processes = _processes(trace)
    raw = sorted(
        (span for span in trace.get("spans") or () if isinstance(span, dict)),
        key=lambda span: (_micros(span.get("startTime")), str(span.get("spanID", ""))),
    )
    origin = _micros(raw[0].get("startTime")) if raw else 0
    spans: list[SpanView] = []
    for span in raw[:MAX_SPANS]:
        tags = _tags(span)
        spans.append(
            SpanView(
                span_id=str(span.get("spanID", "")),
                parent_id=_parent(span, trace_id),
                service=_service(span, processes),
                operation=str(span.get("operationName", ""))[:MAX_TAG_LENGTH].split("?", 1)[0],
                kind=_text(tags.get("span.kind")),
                start_ms=round((_micros(span.get("startTime")) - origin) / 1000, 3),
                duration_ms=round(_micros(span.get("duration")) / 1000, 3),
                error=_is_error(tags),
                tags=safe_tags(tags),
            )
        )
    end = max((span.start_ms + span.duration_ms for span in spans), default=0.0)
    services = list(dict.fromkeys(span.service for span in spans))
    return TraceView(trace_id, round(end, 3), services, spans, truncated=len(raw) > MAX_SPANS)


def request_trace(traces: Iterable[Mapping[str, Any]], request_id: str, *, service: str) -> Mapping[str, Any] | None:
    """Of Jaeger's traces, the first to start whose `service` span carries `request_id` (junction.request_id)."""

    def started(trace: Mapping[str, Any]) -> int | None:
        processes = _processes(trace)
        starts = [
            _micros(span.get("startTime"))
            for span in trace.get("spans") or ()
            if isinstance(span, dict)
            and _service(span, processes) == service
            and _tags(span).get(REQUEST_ID_ATTRIBUTE) == request_id
        ]
        return min(starts, default=None)

    found = [(start, index, trace) for index, trace in enumerate(traces) if (start := started(trace)) is not None]
    return min(found, key=lambda item: item[:2])[2] if found else None
