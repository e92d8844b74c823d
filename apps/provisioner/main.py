"""provisioner's composition root: settings -> sidecar, shared key, migrator -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.provisioner.api import router
from apps.provisioner.deps import ProvisionerServices
from apps.provisioner.domain import CallerPolicy
from apps.provisioner.settings import ProvisionerSettings
from apps.provisioner.storage import AlembicSchemaMigrator
from servicekit import DaprSidecar, SidecarClient, create_sidecar_app
from servicekit.provisioning import read_provisioner_key


async def read_caller_policy(sidecar: SidecarClient, settings: ProvisionerSettings) -> CallerPolicy:
    """Read the key admin must present from the provisioning secret store (once, at start-up)."""
    key = await read_provisioner_key(sidecar, store=settings.provisioning_secretstore_name)
    return CallerPolicy(admin_app_id=settings.admin_app_id, key=key)


def create_app(settings: ProvisionerSettings | None = None, *, services: ProvisionerServices | None = None) -> FastAPI:
    settings = settings or ProvisionerSettings()

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        callers = await read_caller_policy(sidecar, settings)
        app.state.services = ProvisionerServices(migrator=AlembicSchemaMigrator(), callers=callers)
        yield

    return create_sidecar_app(settings, title="Junction provisioner", routers=[router], wire=wire, services=services)
