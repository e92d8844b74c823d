"""catalog's composition root: settings -> sidecar, state outbox, store -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.catalog.api import router
from apps.catalog.deps import CatalogServices
from apps.catalog.settings import CatalogSettings
from apps.catalog.storage import DaprStateCatalogRepository
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.consumer import dead_letter_topic_of
from servicekit.state_outbox import StateOutbox


def create_app(settings: CatalogSettings | None = None, *, services: CatalogServices | None = None) -> FastAPI:
    settings = settings or CatalogSettings()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        async with StateOutbox(sidecar, dead_letter_topic=dead_letter_topic_of(settings.app_id)) as outbox:
            app.state.services = CatalogServices(catalog=DaprStateCatalogRepository(sidecar, outbox))
            yield

    return create_sidecar_app(settings, title="Junction catalog", routers=[router], wire=wire, services=services)
