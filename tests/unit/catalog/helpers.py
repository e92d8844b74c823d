"""catalog's test kit: a store over a FakeSidecar (or an InterleavingSidecar), and readers of the stored
documents and the staged events."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from apps.catalog import service
from apps.catalog.domain import CreateProduct, Product
from apps.catalog.storage import DaprStateCatalogRepository
from servicekit.state_outbox import StateOutbox
from tests.unit.fakes import FakeSidecar


def new_store(fake: FakeSidecar | None = None) -> tuple[DaprStateCatalogRepository, FakeSidecar]:
    fake = fake or FakeSidecar()
    return DaprStateCatalogRepository(fake, StateOutbox(fake)), fake


def unique_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:12]}"


async def add_product(store: DaprStateCatalogRepository, *, stock: int = 10, price: str = "12.50") -> Product:
    return await service.create_product(CreateProduct(unique_sku(), "A product", Decimal(price), stock), catalog=store)


def doc(fake: FakeSidecar, key: str) -> Any:
    item = fake.state.get(("statestore", key))
    return None if item is None else item.value


def counts(fake: FakeSidecar, product_id: str) -> tuple[int, int]:
    """A stored product's (stock, reserved)."""
    product = doc(fake, f"product:{product_id}")
    return product["stock"], product["reserved"]


def staged(fake: FakeSidecar) -> list[tuple[str, dict[str, Any]]]:
    """The topics and payloads waiting in the state outbox, oldest first."""
    return fake.staged_events()
