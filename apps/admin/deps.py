"""What admin's routes receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.admin.deadletters.storage import DeadLetterRepository
from apps.admin.tenants.saga import Onboarding
from servicekit import SidecarClient


@dataclass(frozen=True)
class AdminServices:
    sidecar: SidecarClient
    dead_letters: DeadLetterRepository
    onboarding: Onboarding


def _services(request: Request) -> AdminServices:
    services: AdminServices = request.app.state.services
    return services


Services = Annotated[AdminServices, Depends(_services)]
