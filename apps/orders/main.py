"""orders' composition root: settings -> sidecar, database, peers, relay -> FastAPI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from apps.orders.api import router
from apps.orders.deps import OrdersServices
from apps.orders.events import consumer
from apps.orders.peers import DaprOrderPeers
from apps.orders.service import utc_now
from apps.orders.settings import OrdersSettings
from apps.orders.storage import SqlUnitOfWork, outbox
from servicekit import DaprSidecar, ReadinessCheck, configure_logging, create_service_app
from servicekit.database import create_engine
from servicekit.health import database_check, sidecar_check, sidecar_components
from servicekit.migrations import upgrade_to_head
from servicekit.outbox import OutboxRelay

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: OrdersSettings | None = None) -> FastAPI:
    settings = settings or OrdersSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
        await asyncio.to_thread(upgrade_to_head, MIGRATIONS, settings.database_url)
        engine = create_engine(settings.database_url)
        relay = OutboxRelay(engine=engine, table=outbox, sidecar=sidecar)
        app.state.services = OrdersServices(
            uow=lambda: SqlUnitOfWork(engine, relay),
            peers=DaprOrderPeers(sidecar, identity=settings.identity_app_id, catalog=settings.catalog_app_id),
            clock=utc_now,
            payment_timeout=timedelta(seconds=settings.payment_timeout_seconds),
            expiry_batch=settings.expiry_batch,
        )
        app.state.checks = {"sidecar": sidecar_check(sidecar), "database": database_check(engine)}
        app.state.components = sidecar_components(sidecar)
        if settings.outbox_relay:
            relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await engine.dispose()
            await sidecar.aclose()

    def readiness(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return getattr(app.state, "checks", {})

    return create_service_app(
        settings, title="Junction orders", lifespan=lifespan, routers=[router, consumer.router()], readiness=readiness
    )
