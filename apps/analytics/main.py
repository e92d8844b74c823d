"""analytics' composition root: settings -> sidecar, summary store -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.analytics.api import router
from apps.analytics.deps import AnalyticsServices
from apps.analytics.events import consumer
from apps.analytics.settings import AnalyticsSettings
from apps.analytics.storage import DaprSummaryStore
from servicekit import DaprSidecar, ReadinessCheck, configure_logging, create_service_app
from servicekit.health import sidecar_check, sidecar_components


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
        app.state.services = AnalyticsServices(summaries=DaprSummaryStore(sidecar))
        app.state.checks = {"sidecar": sidecar_check(sidecar)}
        app.state.components = sidecar_components(sidecar)
        try:
            yield
        finally:
            await sidecar.aclose()

    def readiness(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return getattr(app.state, "checks", {})

    return create_service_app(
        settings,
        title="Junction analytics",
        lifespan=lifespan,
        routers=[router, consumer.router()],
        readiness=readiness,
    )
