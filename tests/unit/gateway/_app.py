"""The gateway's public routes on a test app: given peers and token codec, the rest as the real app builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from apps.gateway.peers import Peers
from servicekit import ServiceSettings, create_service_app
from servicekit.tokens import TokenCodec


@contextmanager
def gateway_client(
    routers: Sequence[APIRouter],
    peers: Callable[[], Peers],
    tokens: TokenCodec,
    *,
    components: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
    raise_server_exceptions: bool = True,
) -> Iterator[TestClient]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.peers = peers()  # built on the app's own event loop, as the real lifespan does
        app.state.tokens = tokens
        if components is not None:
            app.state.components = components
        yield

    app = create_service_app(
        ServiceSettings(app_id="gateway"),
        title="t",
        lifespan=lifespan,
        routers=list(routers),
        readiness=lambda _: {},
        public=True,
    )
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
        yield client
