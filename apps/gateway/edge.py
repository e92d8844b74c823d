"""The public edge's own middleware: per-client rate limiting before any route runs."""

from __future__ import annotations

import logging

from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from apps.gateway.ratelimit import RateLimiter
from servicekit import JunctionError, RateLimited
from servicekit.middleware import send_error
from servicekit.tokens import TokenCodec

log = logging.getLogger("gateway.edge")
API_PREFIX = "/api/v1"
VERIFIED_CLAIMS = "verified_claims"


def client_key(scope: Scope, tokens: TokenCodec | None) -> str:
    """Name the client: the subject of a valid bearer token, else the caller's address."""
    for key, value in scope.get("headers", []):
        if key == b"authorization" and tokens is not None:
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                try:
                    claims = tokens.verify(token.strip())
                except JunctionError:
                    break
                # Verified once per request: the route's auth dependency reuses these claims.
                scope.setdefault("state", {})[VERIFIED_CLAIMS] = claims
                return "user:" + claims.subject
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    """Answer 429 with Retry-After once a client passes a limit of its tier."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: State = scope["app"].state  # the lifespan puts `limiter` and `tokens` there
        limiter: RateLimiter | None = getattr(state, "limiter", None)
        if limiter and scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            try:
                await limiter.hit(scope["path"], client_key(scope, getattr(state, "tokens", None)))
            except RateLimited as limited:
                await send_error(send, limited)
                return
            except Exception:  # counters unreachable: keep serving rather than close the edge
                log.warning("rate-limit counters unavailable; request let through", exc_info=True)
        await self.app(scope, receive, send)
