"""The public edge's own middleware: per-client rate limiting before any route runs.

The limiter and its tiers are `ratelimit`; who the client is behind trusted proxies, `forwarded`; the
operator page's security headers, `headers`. Only the JSON API is limited: `/ui` and `/docs` serve files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.gateway.edge.forwarded import IPNetwork, scope_client_address
from servicekit import JunctionError, RateLimited
from servicekit.middleware import send_error
from servicekit.tokens import TokenCodec

if TYPE_CHECKING:  # deps imports this module for VERIFIED_CLAIMS
    from apps.gateway.deps import GatewayServices

log = logging.getLogger("gateway.edge")
API_PREFIX = "/api/v1"
VERIFIED_CLAIMS = "verified_claims"
FAILED_STATUS = 401


def client_key(scope: Scope, tokens: TokenCodec | None, proxies: Sequence[IPNetwork] = ()) -> str:
    """Name the client: the subject of a valid bearer token, else its real address (see `forwarded`)."""
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
    return "addr:" + (scope_client_address(scope, proxies) or "unknown")


class RateLimitMiddleware:
    """Answer 429 with Retry-After once a client passes a limit of its tier; count its 401s if the tier asks."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[IPNetwork] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The lifespan builds the services; until it has run, nothing is limited.
        services: GatewayServices | None = getattr(scope["app"].state, "services", None)
        if services is None or scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        limiter, path = services.limiter, scope["path"]
        counts_failures = bool(limiter.tier_for(path).failure_limits)
        # Where failures count, the address alone names the client: a token must not buy fresh guesses.
        tokens = None if counts_failures else services.tokens
        client = client_key(scope, tokens, self.trusted_proxies)
        try:
            await limiter.hit(path, client)
        except RateLimited as limited:
            await send_error(send, limited)
            return
        except Exception:  # counters unreachable: keep serving rather than close the edge
            log.warning("rate-limit counters unavailable; request let through", exc_info=True)
        if not counts_failures:
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch_status)
        if status == FAILED_STATUS:
            try:
                await limiter.count_failure(path, client)
            except Exception:
                log.warning("rate-limit counters unavailable; a failure went uncounted", exc_info=True)
