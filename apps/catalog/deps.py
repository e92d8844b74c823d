"""What catalog's routes receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.catalog.storage import CatalogRepository
from servicekit.deps import services_of


@dataclass(frozen=True)
class CatalogServices:
    catalog: CatalogRepository


Services = Annotated[CatalogServices, Depends(services_of(CatalogServices))]
