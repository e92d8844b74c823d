"""The gateway as `create_app` builds it, serving test services in place of what its lifespan wires."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from limits import parse_many
from limits.aio.storage import MemoryStorage

from apps.gateway.deps import GatewayServices
from apps.gateway.edge import RateLimitMiddleware
from apps.gateway.edge.forwarded import IPNetwork
from apps.gateway.edge.ratelimit import RateLimiter, Tier
from apps.gateway.main import app_ids, create_app
from apps.gateway.peers import Peers
from apps.gateway.settings import GatewaySettings
from apps.gateway.traces import NoTraceStore, TraceStore
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.tokens import TokenCodec
from tests.unit.fakes import FakeSidecar

APPS = app_ids(GatewaySettings())
TOKENS = TokenCodec("g" * 32)
"""The signing key the gateway under test verifies its callers' tokens with."""
Components = Callable[[], Awaitable[list[dict[str, Any]]]]
LimiterOf = Callable[[str], RateLimiter]
"""The `limiter_of` fixture: a limiter over the tiers of a YAML text, counting in memory."""


def bearer(role: str = "customer", *, subject: str = "u-1") -> dict[str, str]:
    """The Authorization header of a caller signed in with `role`."""
    return {"Authorization": f"Bearer {TOKENS.issue(subject=subject, email='a@example.com', role=role)}"}


def unlimited() -> RateLimiter:
    """A limiter with one tier no test reaches: the edge middleware runs and never refuses."""
    return RateLimiter([Tier("unlimited", ("/",), tuple(parse_many("1000000/second")))], MemoryStorage())


def services(
    *,
    tokens: TokenCodec,
    peers: Peers | None = None,
    limiter: RateLimiter | None = None,
    components: Components | None = None,
    traces: TraceStore | None = None,
) -> GatewayServices:
    """What the lifespan wires; peers default to a fake sidecar with no app behind it, traces to none."""
    return GatewayServices(
        peers=peers if peers is not None else Peers(FakeSidecar(), APPS, ()),
        tokens=tokens,
        limiter=limiter if limiter is not None else unlimited(),
        components=components,
        traces=traces if traces is not None else NoTraceStore(),
    )


def gateway_app(served: GatewayServices) -> FastAPI:
    """The real gateway app serving `served`: its lifespan waits for no sidecar and wires nothing."""
    return create_app(GatewaySettings(), services=served)


@asynccontextmanager
async def _unwired(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
    raise AssertionError("an app built with its services is never wired")
    yield  # pragma: no cover


def edge_app(
    routers: Sequence[APIRouter], served: GatewayServices, *, trusted_proxies: Sequence[IPNetwork] = ()
) -> FastAPI:
    """Stand-in routes behind the gateway's edge (the kit's app, the rate-limit middleware), serving `served`."""
    return create_sidecar_app(
        GatewaySettings(),
        title="edge",
        routers=routers,
        wire=_unwired,
        services=served,
        public=True,
        edge_middleware=[partial(RateLimitMiddleware, trusted_proxies=trusted_proxies)],
    )


@contextmanager
def gateway_client(
    peers: Peers,
    tokens: TokenCodec,
    *,
    components: Components | None = None,
    raise_server_exceptions: bool = True,
) -> Iterator[TestClient]:
    app = gateway_app(services(tokens=tokens, peers=peers, components=components))
    client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
    try:
        yield client
    finally:
        client.close()
