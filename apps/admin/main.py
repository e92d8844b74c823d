"""admin's composition root: settings -> sidecar, stores -> FastAPI app with one merged subscription list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from apps.admin.deadletters import api as deadletters_api
from apps.admin.deadletters import events as deadletters_events
from apps.admin.deadletters.storage import DaprStateDeadLetters
from apps.admin.deps import AdminServices
from apps.admin.settings import AdminSettings
from apps.admin.subscriptions import subscription_router
from servicekit import DaprSidecar, ReadinessCheck, configure_logging, create_service_app
from servicekit.health import sidecar_check, sidecar_components


def routers(settings: AdminSettings) -> list[APIRouter]:
    """Every route of admin; each part that subscribes adds its source to the one `/dapr/subscribe`."""
    subscribe = subscription_router(lambda: deadletters_events.subscriptions(settings.pubsub_name))
    return [subscribe, deadletters_events.router, deadletters_api.router]


def create_app(settings: AdminSettings | None = None) -> FastAPI:
    settings = settings or AdminSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
        app.state.services = AdminServices(sidecar=sidecar, dead_letters=DaprStateDeadLetters(sidecar))
        app.state.checks = {"sidecar": sidecar_check(sidecar)}
        app.state.components = sidecar_components(sidecar)
        try:
            yield
        finally:
            await sidecar.aclose()

    def readiness(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return getattr(app.state, "checks", {})

    return create_service_app(
        settings, title="Junction admin", lifespan=lifespan, routers=routers(settings), readiness=readiness
    )
