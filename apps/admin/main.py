"""admin's composition root: settings -> sidecar, state outbox, stores, workflow runtime, onboarding -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from apps.admin.deadletters import api as deadletters_api
from apps.admin.deadletters import events as deadletters_events
from apps.admin.deadletters.storage import DaprStateDeadLetterRepository
from apps.admin.deps import AdminServices
from apps.admin.settings import AdminSettings
from apps.admin.tenants import api as tenants_api
from apps.admin.tenants import service as tenants_service
from apps.admin.tenants.peers import DaprSchemaProvisioner
from apps.admin.tenants.service import Onboarding
from apps.admin.tenants.service.engine import DaprTenantWorkflows
from apps.admin.tenants.service.steps import Steps
from apps.admin.tenants.storage import DaprStateTenantRepository
from apps.admin.tenants.storage.admins import SqlTenantAdmins
from apps.admin.tenants.storage.databases import SqlTenantDatabases
from servicekit import DaprSidecar, SidecarClient, create_sidecar_app
from servicekit.accounts import allow_local_email_domains
from servicekit.consumer import dead_letter_topic_of
from servicekit.provisioning import read_provisioner_key
from servicekit.state_outbox import StateOutbox
from servicekit.tasks import every


def routers() -> list[APIRouter]:
    """Every route of admin; what it subscribes is declared in components/common/subscriptions.yaml."""
    return [deadletters_events.router, deadletters_api.router, tenants_api.router]


async def steps(settings: AdminSettings, sidecar: SidecarClient, tenants: DaprStateTenantRepository) -> Steps:
    """Wire the provisioning activities; the provisioner's key is read once, here, from its own secret store."""
    key = await read_provisioner_key(sidecar, store=settings.provisioning_secretstore_name)
    return Steps(
        tenants=tenants,
        databases=SqlTenantDatabases(),
        provisioner=DaprSchemaProvisioner(sidecar, app_id=settings.provisioner_app_id, key=key),
        admins=SqlTenantAdmins(),
    )


def workflows(settings: AdminSettings, on: Steps) -> DaprTenantWorkflows:
    """The provisioning workflow, hosted here through admin's own sidecar (its gRPC API)."""
    token = settings.dapr_api_token
    return DaprTenantWorkflows(
        on,
        grpc_port=settings.dapr_grpc_port,
        api_token=token.get_secret_value() if token else None,
        call_timeout_seconds=settings.workflow_call_timeout_seconds,
    )


def create_app(settings: AdminSettings | None = None, *, services: AdminServices | None = None) -> FastAPI:
    settings = settings or AdminSettings()
    if not settings.is_production:
        allow_local_email_domains()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            outbox = await stack.enter_async_context(
                StateOutbox(sidecar, dead_letter_topic=dead_letter_topic_of(settings.app_id))
            )
            tenants = DaprStateTenantRepository(sidecar, outbox)
            # Started before the routes serve, stopped after: the engine resumes the runs a crash cut short.
            engine = await stack.enter_async_context(workflows(settings, await steps(settings, sidecar, tenants)))
            onboarding = Onboarding(
                tenants=tenants,
                workflows=engine,
                database_url_template=settings.tenant_database_url_template,
                wait_seconds=settings.provisioning_wait_seconds,
            )
            app.state.services = AdminServices(
                sidecar=sidecar, dead_letters=DaprStateDeadLetterRepository(sidecar), onboarding=onboarding
            )
            await tenants_service.resume_unscheduled(onboarding=onboarding)
            # In-process rather than a cron binding: admin is the single workflow host, and the sweep
            # repairs what admin itself left (a tenant recorded whose run it could not schedule).
            sweep = settings.provisioning_sweep_seconds
            quiet = timedelta(seconds=2 * sweep)
            await stack.enter_async_context(
                every(
                    sweep,
                    lambda: tenants_service.resume_unscheduled(onboarding=onboarding, quiet_for=quiet),
                    name="admin-provisioning-sweep",
                )
            )
            yield

    return create_sidecar_app(settings, title="Junction admin", routers=routers(), wire=wire, services=services)
