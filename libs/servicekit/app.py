"""Assemble a Junction service: envelope handlers, request context, sidecar token, body limit, probes,
and the usual lifespan (logs, metrics server, sidecar ready, readiness checks) around what each app wires itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from servicekit.envelope import install_error_handlers
from servicekit.health import ReadinessCheck, health_router, sidecar_check, sidecar_components
from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.middleware import BodySizeLimitMiddleware, RequestContextMiddleware, SidecarTokenMiddleware
from servicekit.settings import ServiceSettings
from servicekit.sidecar import DaprSidecar

SUBSCRIBE_PATH = "/dapr/subscribe"
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
Wiring = Callable[[FastAPI, DaprSidecar], AbstractAsyncContextManager[None]]
"""Builds an app's services on its ready sidecar (setting `app.state.services`), runs while they serve."""


def _checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    checks: Mapping[str, ReadinessCheck] = getattr(app.state, "checks", {})
    return checks


def create_sidecar_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    wire: Wiring,
    services: object | None = None,
    public: bool = False,
    edge_middleware: Sequence[Callable[[ASGIApp], ASGIApp]] = (),
) -> FastAPI:
    """The app every service is: JSON logs, its metrics server, a ready sidecar, its checks, then what `wire` builds.

    Prebuilt `services` (tests pass fakes of the app's ports) are served from the start in place of what
    `wire` would build: the lifespan then connects nothing (no logs set up, no sidecar, no database) and
    the app is otherwise the same: routes, middleware, error handlers, probes.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:  # already built: nothing to connect, nothing to wire
            yield
            return
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        try:
            async with serve_metrics(settings.metrics_port, host=settings.metrics_host):
                await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
                app.state.checks = {"sidecar": sidecar_check(sidecar)}
                app.state.components = sidecar_components(sidecar)
                async with wire(app, sidecar):
                    yield
        finally:
            await sidecar.aclose()

    app = create_service_app(
        settings,
        title=title,
        lifespan=lifespan,
        routers=routers,
        readiness=_checks,
        public=public,
        edge_middleware=edge_middleware,
    )
    if services is not None:
        app.state.services = services
    return app


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
    app.include_router(
        health_router(lambda: readiness(app), lambda: getattr(app.state, "components", None), detailed=not public)
    )
    for router in routers:
        app.include_router(router)

    # Subscriptions are declared (components/common/subscriptions.yaml), never programmatic: daprd still
    # asks every app once at start, and a programmatic one would replace the declared one of its topic.
    @app.get(SUBSCRIBE_PATH, include_in_schema=False)
    async def no_subscriptions() -> list[object]:
        """None programmatic (they are declared); a 404 envelope here makes daprd log a warning."""
        return []

    # Added innermost first: the request context wraps everything, so every refusal carries its id.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if not public and settings.app_api_token is not None:
        app.add_middleware(SidecarTokenMiddleware, token=settings.app_api_token.get_secret_value())
    for middleware in edge_middleware:
        app.add_middleware(middleware)
    app.add_middleware(RequestContextMiddleware)
    return app
