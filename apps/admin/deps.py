"""What admin's routes receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.admin.deadletters.storage import DeadLetterRepository
from apps.admin.tenants.service import Onboarding
from servicekit import SidecarClient
from servicekit.deps import services_of


@dataclass(frozen=True)
class AdminServices:
    sidecar: SidecarClient
    dead_letters: DeadLetterRepository
    onboarding: Onboarding


Services = Annotated[AdminServices, Depends(services_of(AdminServices))]
