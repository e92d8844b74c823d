"""payments' composition root: settings -> sidecar, state outbox, payment store, provider -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.payments.api import router
from apps.payments.deps import PaymentsServices
from apps.payments.events import consumer
from apps.payments.peers import DaprStatePaymentProvider
from apps.payments.settings import PaymentsSettings
from apps.payments.storage import DaprStatePaymentRepository
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.consumer import dead_letter_topic_of
from servicekit.state_outbox import StateOutbox


def create_app(settings: PaymentsSettings | None = None, *, services: PaymentsServices | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        dead_letters = dead_letter_topic_of(settings.app_id)
        async with StateOutbox(
            sidecar, interval_seconds=settings.outbox_interval_seconds, dead_letter_topic=dead_letters
        ) as outbox:
            app.state.services = PaymentsServices(
                payments=DaprStatePaymentRepository(sidecar, outbox), provider=DaprStatePaymentProvider(sidecar)
            )
            yield

    return create_sidecar_app(
        settings, title="Junction payments", routers=[router, consumer.router()], wire=wire, services=services
    )
