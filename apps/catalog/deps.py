"""What catalog's routes receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.catalog.storage import DaprStateCatalog


@dataclass(frozen=True)
class CatalogServices:
    store: DaprStateCatalog


def _services(request: Request) -> CatalogServices:
    services: CatalogServices = request.app.state.services
    return services


Services = Annotated[CatalogServices, Depends(_services)]
