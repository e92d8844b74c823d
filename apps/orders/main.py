"""orders' composition root: settings -> sidecar, database, peers (with their user cache), relay -> FastAPI app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from apps.orders.api import router
from apps.orders.deps import OrdersServices
from apps.orders.events import consumer
from apps.orders.peers import DaprOrderPeers, GrpcUserValidator
from apps.orders.service import Timeouts
from apps.orders.settings import OrdersSettings
from apps.orders.storage import SqlUnitOfWork, outbox, processed_events
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.clock import utc_now
from servicekit.consumer import dead_letter_topic_of
from servicekit.database import create_engine
from servicekit.grpc_client import MeshChannel
from servicekit.health import database_check
from servicekit.horizons import DEDUPE_HORIZON_SECONDS
from servicekit.migrations import upgrade_to_head
from servicekit.outbox import OutboxRelay, Retention
from servicekit.read_cache.users import identity_user_reads

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: OrdersSettings | None = None, *, services: OrdersServices | None = None) -> FastAPI:
    settings = settings or OrdersSettings()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade_to_head, MIGRATIONS, settings.database_url)
        engine = create_engine(settings.database_url)
        token = settings.dapr_api_token
        mesh = MeshChannel.open(
            grpc_port=settings.dapr_grpc_port,
            api_token=token.get_secret_value() if token else None,
            deadline_seconds=settings.identity_deadline_seconds,
        )
        relay = OutboxRelay(
            engine=engine,
            table=outbox,
            sidecar=sidecar,
            dead_letter_topic=dead_letter_topic_of(settings.app_id),
            retentions=[Retention(processed_events, processed_events.c.processed_at, DEDUPE_HORIZON_SECONDS)],
        )
        app.state.services = OrdersServices(
            uow=lambda: SqlUnitOfWork(engine, relay),
            peers=DaprOrderPeers(
                sidecar,
                GrpcUserValidator(mesh, identity_app_id=settings.identity_app_id),
                catalog_app_id=settings.catalog_app_id,
                user_reads=identity_user_reads(settings, sidecar),
            ),
            clock=utc_now,
            timeouts=Timeouts(
                place_budget=timedelta(seconds=settings.place_budget_seconds),
                placing_deadline=timedelta(seconds=settings.placing_deadline_seconds),
                payment_timeout=timedelta(seconds=settings.payment_timeout_seconds),
            ),
            expiry_batch=settings.expiry_batch,
        )
        app.state.checks["database"] = database_check(engine)
        try:
            # Off when the relay runs as a process of its own; the outbox then only fills until one runs.
            async with relay if settings.outbox_relay else contextlib.nullcontext():
                yield
        finally:
            await mesh.aclose()
            await engine.dispose()

    return create_sidecar_app(
        settings, title="Junction orders", routers=[router, consumer.router()], wire=wire, services=services
    )
