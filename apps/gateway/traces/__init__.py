"""Traces for the operator page: one request's or one trace id's spans, read from the trace backend.

`domain` turns Jaeger's JSON into the view the page draws (spans by start, parents, services, timing, errors,
a few safe tags) and names the errors; `jaeger` asks Jaeger's HTTP query API for it. The gateway builds a
`JaegerTraceStore` from TRACE_QUERY_URL (main.py); `GET /api/v1/admin/traces/...` (apps.gateway.api.traces)
answers the view.
"""

from apps.gateway.traces.domain import (
    MAX_SPANS,
    SAFE_TAGS,
    NoTraceStore,
    SpanView,
    TraceNotFound,
    TraceStore,
    TracesUnavailable,
    TraceView,
    request_trace,
    safe_tags,
    trace_view,
)
from apps.gateway.traces.jaeger import JaegerTraceStore

__all__ = [
    "MAX_SPANS",
    "SAFE_TAGS",
    "JaegerTraceStore",
    "NoTraceStore",
    "SpanView",
    "TraceNotFound",
    "TraceStore",
    "TraceView",
    "TracesUnavailable",
    "request_trace",
    "safe_tags",
    "trace_view",
]
