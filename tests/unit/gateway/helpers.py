"""The gateway as `create_app` builds it, serving test services in place of what its lifespan wires."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from limits import parse_many
from limits.aio.storage import MemoryStorage

from apps.gateway.deps import GatewayServices
from apps.gateway.main import app_ids, create_app
from apps.gateway.peers import Peers
from apps.gateway.ratelimit import RateLimiter, Tier
from apps.gateway.settings import GatewaySettings
from servicekit.tokens import TokenCodec
from tests.unit.fakes import FakeSidecar

APPS = app_ids(GatewaySettings())
Components = Callable[[], Awaitable[list[dict[str, Any]]]]


def unlimited() -> RateLimiter:
    """A limiter with one tier no test reaches: the edge middleware runs and never refuses."""
    return RateLimiter([Tier("unlimited", ("/",), tuple(parse_many("1000000/second")))], MemoryStorage())


def services(*, tokens: TokenCodec, peers: Peers | None = None, limiter: RateLimiter | None = None) -> GatewayServices:
    """What the lifespan wires; peers default to a fake sidecar with no app behind it."""
    return GatewayServices(
        peers=peers if peers is not None else Peers(FakeSidecar(), APPS, ()),
        tokens=tokens,
        limiter=limiter if limiter is not None else unlimited(),
    )


def gateway_app(served: GatewayServices, *, components: Components | None = None) -> FastAPI:
    """The real gateway app; its lifespan, which would wait for a sidecar, never runs."""
    app = create_app(GatewaySettings())
    app.state.services = served
    if components is not None:
        app.state.components = components
    return app


@contextmanager
def gateway_client(
    peers: Peers,
    tokens: TokenCodec,
    *,
    components: Components | None = None,
    raise_server_exceptions: bool = True,
) -> Iterator[TestClient]:
    app = gateway_app(services(tokens=tokens, peers=peers), components=components)
    client = TestClient(app, raise_server_exceptions=raise_server_exceptions)  # not entered: no lifespan
    try:
        yield client
    finally:
        client.close()
