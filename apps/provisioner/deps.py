"""What provisioner's routes receive, built once in the lifespan (main.py), and its caller check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.provisioner.domain import CALLER_HEADER, CallerPolicy
from apps.provisioner.service import SchemaMigrator
from servicekit.deps import services_of
from servicekit.provisioning import PROVISIONER_KEY_HEADER


@dataclass(frozen=True)
class ProvisionerServices:
    migrator: SchemaMigrator
    callers: CallerPolicy


Services = Annotated[ProvisionerServices, Depends(services_of(ProvisionerServices))]


async def _admin_only(request: Request, services: Services) -> None:
    """Refuse, before any work, a call that is not admin's or lacks the shared key."""
    services.callers.check(request.headers.get(CALLER_HEADER), request.headers.get(PROVISIONER_KEY_HEADER))


# A route dependency, not middleware, so the probes (/healthz, /readyz) stay open to Dapr.
AdminOnly = Depends(_admin_only)
