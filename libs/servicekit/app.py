"""Assemble a Junction service: envelope handlers, request context, sidecar token, body limit, probes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI

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
) -> FastAPI:
    """Build the FastAPI app; `public` apps (the gateway) skip the own-sidecar-only check."""
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health_router(lambda: readiness(app), lambda: getattr(app.state, "components", None)))
    for router in routers:
        app.include_router(router)
    # Added innermost first: the request context wraps everything, so every refusal carries its id.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if not public and settings.app_api_token is not None:
        app.add_middleware(SidecarTokenMiddleware, token=settings.app_api_token.get_secret_value())
    app.add_middleware(RequestContextMiddleware)
    return app
