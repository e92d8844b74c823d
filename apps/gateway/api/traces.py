"""The trace view for admins: one trace's spans, by trace id or by the request id of its gateway span."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from apps.gateway.api.params import ADMIN
from apps.gateway.deps import AdminOnly, TracesDep
from apps.gateway.schemas import Envelope, ErrorEnvelope, PublicRead, refusals
from servicekit import ok
from servicekit.context import is_request_id

router = APIRouter(prefix="/api/v1/admin/traces", tags=["admin"], dependencies=[ADMIN])


class SpanRead(PublicRead):
    span_id: str
    parent_id: str | None
    """The span this one was called from; null for the trace's root (or a parent the backend never got)."""
    service: str
    operation: str
    kind: str | None
    """`server`, `client`, `producer`, `consumer` or `internal`, as the span says."""
    start_ms: float
    """Milliseconds from the start of the trace's first span."""
    duration_ms: float
    error: bool
    tags: dict[str, str]
    """Only http.method, http.route, http.target and url.path (without their query), http.status_code, rpc.* and
    messaging.* names, and dapr.api: never headers, tokens, bodies, statements or client addresses."""


class TraceRead(PublicRead):
    trace_id: str
    duration_ms: float
    services: list[str]
    spans: list[SpanRead]
    """Ordered by start; parentId draws the tree."""
    truncated: bool
    """True when the trace has more spans than one view carries (1,000)."""


def _request_id(value: str) -> str:
    if not is_request_id(value):
        raise ValueError("a request id is 1-128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
    return value


TraceId = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$", description="A trace id: 32 hex digits.")]
RequestId = Annotated[
    str,
    Query(alias="requestId", max_length=128, description="The X-Request-ID the gateway answered the request with."),
    AfterValidator(_request_id),
]
_ANSWERS = {
    **refusals(401, 403, 422),
    404: {"model": ErrorEnvelope, "description": "`TRACE_NOT_FOUND`: the trace backend holds no such trace (yet)."},
    503: {
        "model": ErrorEnvelope,
        "description": "`TRACES_UNAVAILABLE`: the trace backend did not answer in time, or the gateway was given "
        "none (TRACE_QUERY_URL). Safe to retry.",
    },
}


def _answer(view: object) -> JSONResponse:
    return ok(TraceRead.model_validate(view, from_attributes=True).model_dump(by_alias=True))


@router.get("", response_model=Envelope[TraceRead], responses=_ANSWERS)
async def by_request(request_id: RequestId, _: AdminOnly, traces: TracesDep) -> JSONResponse:
    """The trace of the request the gateway answered with this X-Request-ID (its span's junction.request_id)."""
    return _answer(await traces.by_request(request_id))


@router.get("/{trace_id}", response_model=Envelope[TraceRead], responses=_ANSWERS)
async def by_id(trace_id: TraceId, _: AdminOnly, traces: TracesDep) -> JSONResponse:
    """One trace by its id, as an error envelope's `traceId` or a log line names it."""
    return _answer(await traces.trace(trace_id.lower()))
