"""notifications' composition root: settings -> sidecar, inbox store -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.notifications.api import router
from apps.notifications.deps import NotificationsServices
from apps.notifications.events import consumer
from apps.notifications.settings import NotificationsSettings
from apps.notifications.storage import DaprStateInboxRepository
from servicekit import DaprSidecar, create_sidecar_app


def create_app(
    settings: NotificationsSettings | None = None, *, services: NotificationsServices | None = None
) -> FastAPI:
    settings = settings or NotificationsSettings()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        app.state.services = NotificationsServices(inboxes=DaprStateInboxRepository(sidecar))
        yield

    return create_sidecar_app(
        settings, title="Junction notifications", routers=[router, consumer.router()], wire=wire, services=services
    )
