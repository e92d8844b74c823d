"""ASGI middleware every app shares: request ids, access logs and metrics, the sidecar token, body size limits."""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.context import REQUEST_ID_HEADER, SERVED_REQUEST_ID, accept_request_id, request_id_var
from servicekit.envelope import error_body
from servicekit.errors import JunctionError, PayloadTooLarge, RateLimited, Unauthorized
from servicekit.metrics import observe_request
from servicekit.tracing import REQUEST_ID_ATTRIBUTE

access_log = logging.getLogger("servicekit.access")
ROUTINE = "junction.routine"
"""Set in the ASGI scope's state by a route whose call changed nothing (a timer's tick that found nothing due):
its access line is written at debug level, so a tick every few seconds does not bury the rest."""


def routine(request: Request) -> None:
    """Mark this call as routine: its access line goes to debug unless it failed."""
    request.scope.setdefault("state", {})[ROUTINE] = True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_error(send: Send, err: JunctionError) -> None:
    """Answer with an error envelope from inside ASGI middleware, before any route runs."""
    body = json.dumps(error_body(err)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if isinstance(err, RateLimited):
        headers.append((b"retry-after", str(err.retry_after).encode()))
    request_id = request_id_var.get()
    if request_id:
        headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Adopt or create the request id, echo it, write one access line per request and count it (servicekit.metrics)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(_header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        # The request's server span (servicekit.tracing, outside this middleware) can be searched by it.
        trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        began = time.perf_counter()
        status, started = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key == b"x-junction-status":  # a refusal sent as 200 inside the mesh
                        status = int(value)
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, not by Starlette's outermost handler, so the envelope keeps the request id.
            status = 500
            logging.getLogger("servicekit.errors").exception("unhandled error")
            if not started:
                await send_error(send_with_id, JunctionError("An unexpected error occurred."))
        finally:
            seconds = time.perf_counter() - began
            observe_request(scope, status, seconds)
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "durationMs": round(seconds * 1000, 2),
            }
            served = scope.get("state", {}).get(SERVED_REQUEST_ID)
            if served is not None:  # an event delivery: logged under the request that staged the event
                request_id_var.set(served)
            if not scope["path"].endswith(("/healthz", "/readyz")):
                quiet = scope.get("state", {}).get(ROUTINE) and status < 400
                access_log.log(logging.DEBUG if quiet else logging.INFO, "request", extra={"fields": fields})
            request_id_var.reset(token)


class NotFromSidecar(Unauthorized):
    """Raised when a call to an app behind a sidecar lacks the token its own sidecar sends (APP_API_TOKEN)."""

    default_code = "NOT_FROM_SIDECAR"


class SidecarTokenMiddleware:
    """Refuse every call that does not carry the token the app's own sidecar sends (APP_API_TOKEN).

    Liveness stays open: Dapr's app health probe does not send the token, and it reveals nothing.
    With `only_under` (a public app: the gateway) just the paths under those prefixes are guarded, its
    event deliveries; there, with no token configured, nobody can show one and every call is refused.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, only_under: tuple[str, ...] = ()) -> None:
        self.app = app
        self.token = token.encode() if token is not None else None
        self.only_under = only_under

    def _guarded(self, path: str) -> bool:
        if self.only_under:
            return path.startswith(self.only_under)
        return path != "/healthz"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._guarded(scope["path"]):
            presented = (_header(scope, b"dapr-api-token") or "").encode()
            if self.token is None or not hmac.compare_digest(presented, self.token):
                await send_error(send, NotFromSidecar("Calls are accepted only from this app's sidecar."))
                return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Answer 413 in the envelope when a request body is larger than the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, too_large)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(too_large.message)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await send_error(send, too_large)


class _BodyTooLarge(StarletteHTTPException):
    """Raised mid-stream; an HTTPException(413), which FastAPI re-raises while it parses a body."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)
