"""What identity's routes receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.identity.service import UnitOfWorkFactory
from servicekit.deps import services_of
from servicekit.tokens import TokenCodec


@dataclass(frozen=True)
class IdentityServices:
    uow: UnitOfWorkFactory
    tokens: TokenCodec


Services = Annotated[IdentityServices, Depends(services_of(IdentityServices))]
