"""provisioner's composition root: settings -> sidecar, shared key, migrator -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apps.provisioner.api import router
from apps.provisioner.deps import ProvisionerServices
from apps.provisioner.domain import PROVISIONER_KEY_SECRET, CallerPolicy
from apps.provisioner.migrator import AlembicMigrator
from apps.provisioner.settings import ProvisionerSettings
from servicekit import DaprSidecar, ReadinessCheck, SidecarClient, configure_logging, create_service_app
from servicekit.health import sidecar_check, sidecar_components


async def read_caller_policy(sidecar: SidecarClient, settings: ProvisionerSettings) -> CallerPolicy:
    """Read the key admin must present from the provisioning secret store (once, at start-up)."""
    key = await sidecar.get_secret(PROVISIONER_KEY_SECRET, store=settings.provisioning_secretstore_name)
    return CallerPolicy(admin_app_id=settings.admin_app_id, key=key)


def create_app(settings: ProvisionerSettings | None = None) -> FastAPI:
    settings = settings or ProvisionerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.app_id, settings.log_level)
        sidecar = DaprSidecar.from_settings(settings)
        try:
            await sidecar.wait_until_ready(timeout_seconds=settings.sidecar_ready_timeout_seconds)
            callers = await read_caller_policy(sidecar, settings)
            app.state.services = ProvisionerServices(migrator=AlembicMigrator(), callers=callers)
            app.state.checks = {"sidecar": sidecar_check(sidecar)}
            app.state.components = sidecar_components(sidecar)
            yield
        finally:
            await sidecar.aclose()

    def readiness(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return getattr(app.state, "checks", {})

    return create_service_app(
        settings, title="Junction provisioner", lifespan=lifespan, routers=[router], readiness=readiness
    )
