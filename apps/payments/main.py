"""payments' composition root: settings -> sidecar, state outbox, payment store -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.payments.api import router
from apps.payments.deps import PaymentsServices
from apps.payments.events import consumer
from apps.payments.settings import PaymentsSettings
from apps.payments.storage import DaprPaymentStore
from servicekit import DaprSidecar, ReadinessCheck, configure_logging, create_service_app
from servicekit.health import sidecar_check, sidecar_components
from servicekit.state_outbox import StateOutbox


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
        outbox = StateOutbox(sidecar, interval_seconds=settings.outbox_interval_seconds)
        app.state.services = PaymentsServices(payments=DaprPaymentStore(sidecar, outbox))
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
        settings, title="Junction payments", lifespan=lifespan, routers=[router, consumer.router()], readiness=readiness
    )
