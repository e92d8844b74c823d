"""admin's composition root: settings -> sidecar, state outbox, stores, onboarding -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from apps.admin.deadletters import api as deadletters_api
from apps.admin.deadletters import events as deadletters_events
from apps.admin.deadletters.storage import DaprStateDeadLetters
from apps.admin.deps import AdminServices
from apps.admin.settings import AdminSettings
from apps.admin.tenants import api as tenants_api
from apps.admin.tenants import service as tenants_service
from apps.admin.tenants.admins import SqlTenantAdmins
from apps.admin.tenants.databases import TenantDatabaseAdmin
from apps.admin.tenants.provisioner import ProvisionerClient
from apps.admin.tenants.saga import Onboarding
from apps.admin.tenants.storage import DaprStateTenants
from servicekit import DaprSidecar, SidecarClient, create_sidecar_app
from servicekit.accounts import allow_local_email_domains
from servicekit.consumer import dead_letter_topic_of
from servicekit.provisioning import read_provisioner_key
from servicekit.state_outbox import StateOutbox


def routers() -> list[APIRouter]:
    """Every route of admin; what it subscribes is declared in components/common/subscriptions.yaml."""
    return [deadletters_events.router, deadletters_api.router, tenants_api.router]


async def onboarding(settings: AdminSettings, sidecar: SidecarClient, outbox: StateOutbox) -> Onboarding:
    """Wire tenant onboarding; the provisioner's key is read once, here, from its own secret store."""
    key = await read_provisioner_key(sidecar, store=settings.provisioning_secretstore_name)
    return Onboarding(
        tenants=DaprStateTenants(sidecar, outbox),
        databases=TenantDatabaseAdmin(),
        schemas=ProvisionerClient(sidecar, app_id=settings.provisioner_app_id, key=key),
        admins=SqlTenantAdmins(),
        database_url_template=settings.tenant_database_url_template,
        stale_seconds=settings.provisioning_stale_seconds,
    )


def create_app(settings: AdminSettings | None = None) -> FastAPI:
    settings = settings or AdminSettings()
    if not settings.is_production:
        allow_local_email_domains()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        async with StateOutbox(sidecar, dead_letter_topic=dead_letter_topic_of(settings.app_id)) as outbox:
            tenants = await onboarding(settings, sidecar, outbox)
            app.state.services = AdminServices(
                sidecar=sidecar, dead_letters=DaprStateDeadLetters(sidecar), onboarding=tenants
            )
            # A PROVISIONING tenant found now belongs to a run that died with the previous process.
            await tenants_service.recover_interrupted(
                older_than_seconds=settings.startup_recovery_stale_seconds, onboarding=tenants
            )
            yield

    return create_sidecar_app(settings, title="Junction admin", routers=routers(), wire=wire)
