"""catalog's composition root: settings -> sidecar, state outbox, store -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.catalog.api import router
from apps.catalog.deps import CatalogServices
from apps.catalog.settings import CatalogSettings
from apps.catalog.storage import DaprStateCatalog
from servicekit import DaprSidecar, ReadinessCheck, configure_logging, create_service_app
from servicekit.health import sidecar_check, sidecar_components
from servicekit.state_outbox import StateOutbox


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
        outbox = StateOutbox(sidecar)

        app.state.services = CatalogServices(store=DaprStateCatalog(sidecar, outbox))
        app.state.checks = {"sidecar": sidecar_check(sidecar)}
        app.state.components = sidecar_components(sidecar)
        outbox.start()
        try:
            yield
        finally:
            await outbox.stop()
            await sidecar.aclose()

    def readiness(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return getattr(app.state, "checks", {})

    return create_service_app(
        settings, title="Junction catalog", lifespan=lifespan, routers=[router], readiness=readiness
    )
