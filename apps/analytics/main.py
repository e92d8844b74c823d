"""analytics' composition root: settings -> sidecar, summary store -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.analytics.api import router
from apps.analytics.deps import AnalyticsServices
from apps.analytics.events import consumer
from apps.analytics.settings import AnalyticsSettings
from apps.analytics.storage import DaprStateSummaryRepository
from servicekit import DaprSidecar, create_sidecar_app


def create_app(settings: AnalyticsSettings | None = None, *, services: AnalyticsServices | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        app.state.services = AnalyticsServices(
            summaries=DaprStateSummaryRepository(sidecar, shards=settings.summary_shards)
        )
        yield

    return create_sidecar_app(
        settings, title="Junction analytics", routers=[router, consumer.router()], wire=wire, services=services
    )
