"""What identity's routes receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.identity.service import UnitOfWorkFactory
from servicekit.tokens import TokenCodec


@dataclass(frozen=True)
class IdentityServices:
    uow: UnitOfWorkFactory
    tokens: TokenCodec


def _services(request: Request) -> IdentityServices:
    services: IdentityServices = request.app.state.services
    return services


Services = Annotated[IdentityServices, Depends(_services)]
