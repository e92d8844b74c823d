"""Assemble a Junction service: envelope handlers, request context, sidecar token, body limit, probes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from servicekit.envelope import install_error_handlers
from servicekit.health import ReadinessCheck, health_router
from servicekit.middleware import BodySizeLimitMiddleware, RequestContextMiddleware, SidecarTokenMiddleware
from servicekit.settings import ServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    lifespan: Lifespan,
    routers: Sequence[APIRouter],
    readiness: Callable[[FastAPI], Mapping[str, ReadinessCheck]],
    public: bool = False,
    edge_middleware: Sequence[Callable[[ASGIApp], ASGIApp]] = (),
) -> FastAPI:
    """Build the FastAPI app; `public` apps (the gateway) skip the own-sidecar-only check.

    `edge_middleware` runs inside the request context (so its refusals carry the request id),
    outside everything else; it finds the app's state at `scope["app"].state`.
    """
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app, refusals_as_200=not public)
    app.include_router(health_router(lambda: readiness(app), lambda: getattr(app.state, "components", None)))
    for router in routers:
        app.include_router(router)
    # Added innermost first: the request context wraps everything, so every refusal carries its id.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if not public and settings.app_api_token is not None:
        app.add_middleware(SidecarTokenMiddleware, token=settings.app_api_token.get_secret_value())
    for middleware in edge_middleware:
        app.add_middleware(middleware)
    app.add_middleware(RequestContextMiddleware)
    return app
