"""identity's composition root: settings -> sidecar, database, token codec, relay -> FastAPI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from apps.identity import service
from apps.identity.api import router
from apps.identity.deps import IdentityServices
from apps.identity.domain import RegisterUser, Role
from apps.identity.settings import IdentitySettings
from apps.identity.storage import SqlUnitOfWork, outbox
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.accounts import allow_local_email_domains
from servicekit.consumer import dead_letter_topic_of
from servicekit.database import create_engine
from servicekit.health import database_check
from servicekit.migrations import upgrade_to_head
from servicekit.outbox import OutboxRelay
from servicekit.tokens import SIGNING_KEY_SECRET, TokenCodec

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IdentitySettings | None = None, *, services: IdentityServices | None = None) -> FastAPI:
    settings = settings or IdentitySettings()
    if not settings.is_production:
        allow_local_email_domains()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        await asyncio.to_thread(upgrade_to_head, MIGRATIONS, settings.database_url)
        engine = create_engine(settings.database_url)
        try:
            relay = OutboxRelay(
                engine=engine, table=outbox, sidecar=sidecar, dead_letter_topic=dead_letter_topic_of(settings.app_id)
            )
            tokens = TokenCodec(await sidecar.get_secret(SIGNING_KEY_SECRET), ttl_seconds=settings.token_ttl_seconds)
            services = IdentityServices(uow=lambda: SqlUnitOfWork(engine, relay), tokens=tokens)
            admin = RegisterUser(
                settings.admin_email, settings.admin_password.get_secret_value(), "Administrator", Role.ADMIN
            )
            await service.ensure_admin(admin, uow=services.uow)
            app.state.services = services
            app.state.checks["database"] = database_check(engine)
            async with relay:
                yield
        finally:
            await engine.dispose()

    return create_sidecar_app(settings, title="Junction identity", routers=[router], wire=wire, services=services)
