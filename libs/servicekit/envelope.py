"""The one response envelope and the handlers that map every error into it.

Success: `{"success": true, "data", "requestId", "timestamp"}` (and `"stale": true` on data served from a
cache while its owner did not answer); error: `{"success": false, "error": {"code",
"message", "details"?}, "statusCode", "requestId", "traceId", "timestamp"}` (`traceId`: the trace to look up,
or null) (README, "Public API"; docs/errors.md).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.clock import utc_now, utc_text
from servicekit.context import current_request_id
from servicekit.database import DATABASE_DOWN, DatabaseUnavailable
from servicekit.errors import (
    BadRequest,
    DependencyUnavailable,
    JunctionError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    error_for_status,
    field_problems,
)
from servicekit.tracing import current_trace_id

log = logging.getLogger("servicekit.envelope")
REFUSAL_STATUS_HEADER = "X-Junction-Status"


class MalformedJson(BadRequest):
    """Raised when a request body is not valid JSON."""

    default_code = "MALFORMED_JSON"


class RouteNotFound(NotFound):
    """Raised when no route serves the request's path."""

    default_code = "ROUTE_NOT_FOUND"


class MethodNotAllowed(BadRequest):
    """Raised when the route does not take the request's method; `Allow` lists those it takes."""

    status = 405
    default_code = "METHOD_NOT_ALLOWED"


_HTTP_ERRORS: dict[int, type[JunctionError]] = {404: RouteNotFound, 405: MethodNotAllowed, 413: PayloadTooLarge}
"""The kit's class for each HTTPException status Starlette raises itself (routing, a body over the limit)."""
HTTP_ERROR_CODE = "HTTP_ERROR"
"""The code of any other HTTPException, on the class its status maps to (`error_for_status`)."""


def _now() -> str:
    return utc_text(utc_now())


def ok(data: Any, status: int = 200, *, stale: bool = False, headers: dict[str, str] | None = None) -> JSONResponse:
    """Wrap data in the success envelope; `stale` data (a cached copy its owner could not confirm) says so."""
    body = {"success": True, "data": jsonable_encoder(data), "requestId": current_request_id(), "timestamp": _now()}
    if stale:
        body["stale"] = True
    return JSONResponse(body, status_code=status, headers=headers)


def error_body(err: JunctionError) -> dict[str, Any]:
    """The error envelope of `err`, as a plain dict."""
    error: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.details is not None:
        error["details"] = jsonable_encoder(err.details)
    return {
        "success": False,
        "error": error,
        "statusCode": err.status,
        "requestId": current_request_id(),
        "traceId": current_trace_id(),
        "timestamp": _now(),
    }


def error_response(err: JunctionError, *, refusals_as_200: bool = False) -> JSONResponse:
    """Wrap an error in the error envelope with its real status (and Retry-After when the error says when).

    Inside the mesh a refusal travels as HTTP 200: with `refusals_as_200` (apps behind a sidecar), an
    answer that is not the app's own failure travels as HTTP 200 and its status only in the envelope's
    `statusCode`: a business refusal (a 4xx other than 429), and a 503 the app answers because one of
    *its* dependencies is down.
    Dapr 1.18 counts every non-2xx answer as a failure of the target (dapr/dapr#6683), so "out of
    stock" would open breakers, and "catalog is down" would open the gateway's breaker towards a
    healthy orders, which then stays open after catalog is back; the outage is already counted by
    orders' own breaker towards catalog, and the inner hop already retried. What still counts at
    a hop is that hop's own failure: no answer, a timeout, a crash (500). Callers read the envelope
    (`unwrap_envelope`); the public gateway always answers the real status.
    """
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else {}
    answered = (400 <= err.status < 500 and err.status != 429) or isinstance(err, DependencyUnavailable)
    if refusals_as_200 and answered:
        headers[REFUSAL_STATUS_HEADER] = str(err.status)  # so access logs still show the real status
        return JSONResponse(error_body(err), status_code=200, headers=headers)
    return JSONResponse(error_body(err), status_code=err.status, headers=headers)


def install_error_handlers(app: FastAPI, *, refusals_as_200: bool = False) -> None:
    """Map domain errors, validation errors, routing errors and crashes into the envelope."""

    def respond(err: JunctionError) -> JSONResponse:
        return error_response(err, refusals_as_200=refusals_as_200)

    async def on_junction_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, JunctionError)
        return respond(exc)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = field_problems(exc.errors(), skip="body")
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        if malformed:
            return respond(MalformedJson("The request body is not valid JSON."))
        return respond(ValidationFailed("The request is not valid.", details=details))

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = _HTTP_ERRORS.get(exc.status_code)
        if kind is not None:
            err = kind(str(exc.detail))
        else:
            err = error_for_status(exc.status_code, str(exc.detail), code=HTTP_ERROR_CODE)
            err.status = exc.status_code  # keep a 418 or a 501 exactly: the class's status may be wider
        answer = respond(err)
        answer.headers.update(exc.headers or {})  # a 405 says which methods are allowed (RFC 9110)
        return answer

    async def on_database_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("the database could not serve the request: %s", exc)
        return respond(DatabaseUnavailable("The database is unavailable."))

    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return respond(JunctionError("An unexpected error occurred."))

    app.add_exception_handler(JunctionError, on_junction_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for database_down in DATABASE_DOWN:
        app.add_exception_handler(database_down, on_database_down)
    app.add_exception_handler(Exception, on_crash)
