"""Assemble a Junction service: envelope handlers, request context, sidecar token, body limit, probes,
and the usual lifespan (logs, metrics server, sidecar ready, readiness checks) around what each app wires itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp

from servicekit.consumer import EVENTS_ROUTE
from servicekit.envelope import install_error_handlers
from servicekit.health import ReadinessCheck, health_router, sidecar_check, sidecar_components
from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.middleware import BodySizeLimitMiddleware, RequestContextMiddleware, SidecarTokenMiddleware
from servicekit.serve import when_stopping
from servicekit.settings import ServiceSettings
from servicekit.sidecar import DaprSidecar
from servicekit.tracing import ClientHiddenFromSpans, ClientShownToApp, UntrustedTraceContext, configure_tracing

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
    on_stop: Sequence[Callable[[], None]] = (),
) -> FastAPI:
    """The app every service is: JSON logs, its metrics server, a ready sidecar, its checks, then what `wire` builds.

    Prebuilt `services` (tests pass fakes of the app's ports) are served from the start in place of what
    `wire` would build: the lifespan then connects nothing (no logs set up, no sidecar, no database) and
    the app is otherwise the same: routes, middleware, error handlers, probes.
    `on_stop` runs, either way, as soon as the server is asked to stop (`servicekit.serve.when_stopping`):
    what ends the responses that never end by themselves, which uvicorn would wait for.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        forgets = [when_stopping(callback) for callback in on_stop]
        try:
            async with serving(app):
                yield
        finally:
            for forget in forgets:
                forget()

    @asynccontextmanager
    async def serving(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:  # already built: nothing to connect, nothing to wire
            yield
            return
        configure_logging(settings.app_id, settings.log_level)
        tracing = configure_tracing(settings.app_id, settings.otel_exporter_otlp_endpoint)
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
            if tracing is not None:  # sends what is still batched, within the exporter's timeout
                await asyncio.to_thread(tracing.shutdown)

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
    """Build the FastAPI app; a `public` app (the gateway) checks the sidecar's token on its event deliveries only.

    `edge_middleware` runs inside the request context (so its refusals carry the request id),
    outside everything else; it finds the app's state at `scope["app"].state`.
    """
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app, refusals_as_200=not public)
    app.include_router(
        health_router(
            lambda: readiness(app),
            lambda: getattr(app.state, "components", None),
            detailed=not public,
            refusals_as_200=not public,
        )
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
    token = settings.app_api_token.get_secret_value() if settings.app_api_token is not None else None
    if public:  # the public edge: only its event deliveries come from its sidecar, and only they need the token
        app.add_middleware(SidecarTokenMiddleware, token=token, only_under=(EVENTS_ROUTE + "/",))
    elif token is not None:
        app.add_middleware(SidecarTokenMiddleware, token=token)
    for middleware in edge_middleware:
        app.add_middleware(middleware)
    app.add_middleware(RequestContextMiddleware)
    _trace(app, public=public, sidecar_token=token)
    return app


_UNTRACED = "/healthz,/readyz,/dapr/subscribe,/dapr/config"
"""Probes and daprd's start-up questions: a span each would bury the traces people look for."""


def _trace(app: FastAPI, *, public: bool, sidecar_token: str | None) -> None:
    """A server span around every request (outermost, so the logs and the envelope see its trace id).

    The public edge (`public`) starts its own trace for each request unless its sidecar calls
    (`UntrustedTraceContext`), and records nothing of its clients beyond the path (`ClientHiddenFromSpans`).
    """
    FastAPIInstrumentor.instrument_app(app, excluded_urls=_UNTRACED, exclude_spans=["receive", "send"])
    if public:
        app.add_middleware(ClientShownToApp)  # the app's outermost: just inside the instrumentation
        # instrument_app wraps `build_middleware_stack` to put its middleware outermost; this wraps that
        # once more, so what a client may not put in a span is gone before the instrumentation reads it.
        build = app.build_middleware_stack

        def build_for_the_public() -> ASGIApp:
            return UntrustedTraceContext(ClientHiddenFromSpans(build()), sidecar_token=sidecar_token)

        app.build_middleware_stack = build_for_the_public  # type: ignore[method-assign]
