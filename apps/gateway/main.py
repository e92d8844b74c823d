"""gateway's composition root: settings -> sidecar, token codec, rate limiter, peers -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.gateway.edge import RateLimitMiddleware
from apps.gateway.peers import AppIds, Peers
from apps.gateway.ratelimit import RateLimiter
from apps.gateway.routes import admin, auth, catalog, health, orders, tenants
from apps.gateway.settings import GatewaySettings
from servicekit import DaprSidecar, ReadinessCheck, configure_logging, create_service_app
from servicekit.health import sidecar_check, sidecar_components
from servicekit.tokens import SIGNING_KEY_SECRET, TokenCodec


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    limiter = RateLimiter.from_settings(settings.rate_limits_file, settings.rate_limit_storage_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
        app.state.tokens = TokenCodec(await sidecar.get_secret(SIGNING_KEY_SECRET))
        app.state.peers = Peers(sidecar, AppIds(), tuple(settings.health_apps))
        app.state.limiter = limiter
        app.state.checks = {"sidecar": sidecar_check(sidecar), "rate-limit counters": limiter.ready}
        app.state.components = sidecar_components(sidecar)
        try:
            yield
        finally:
            await sidecar.aclose()

    def readiness(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return getattr(app.state, "checks", {})

    return create_service_app(
        settings,
        title="Junction gateway",
        lifespan=lifespan,
        routers=[auth.router, health.router, catalog.router, orders.router, admin.router, tenants.router],
        readiness=readiness,
        public=True,
        edge_middleware=[RateLimitMiddleware],
    )
