"""catalog's Dapr state: products, SKU claims, the product index and reservations, with their ETags.

Keys (Dapr prefixes them with the app id): `product:{id}`, `sku:{sku}`, `reservation:{orderId}`, and
`products-list:head` with `products-list:page:{k}`: the product ids in creation order (servicekit.index),
so an insert writes one page; the former one-key `products-index` is read until the first insert moves
it. Every write goes through the state outbox, so the events a change causes are staged in the same
state transaction.

That outbox is servicekit's, not Dapr's (state store metadata `outboxPublishTopic`): Dapr 1.18.3
publishes every upsert of a transaction (the reservation, the SKU claim and the index pages too),
its daprd panics on a transaction with two projections (a two-product reservation) and it sets the
CloudEvent id to its own marker key. docs/events.md has the findings, tests/e2e/test_dapr_outbox.py
shows each against the real sidecar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from apps.catalog.domain import Product, ReservationStatus, StockChanged
from apps.catalog.domain.reservations import Reservation, ReservationLine
from servicekit.events import new_event
from servicekit.index import PagedIndex
from servicekit.locks import KeyedLocks
from servicekit.sidecar import SidecarClient, StateOp
from servicekit.state_outbox import StateOutbox

T = TypeVar("T")
INDEX_KEY = "products-list"
LEGACY_INDEX_KEY = "products-index"


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A stored value and the ETag that guards the next write of it."""

    value: T
    etag: str | None


def product_key(product_id: str) -> str:
    return f"product:{product_id}"


def sku_key(sku: str) -> str:
    return f"sku:{sku}"


def reservation_key(order_id: str) -> str:
    return f"reservation:{order_id}"


def product_doc(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price": f"{product.price:.2f}",
        "stock": product.stock,
        "reserved": product.reserved,
    }


def product_of(doc: dict[str, Any]) -> Product:
    return Product(doc["id"], doc["sku"], doc["name"], Decimal(doc["price"]), int(doc["stock"]), int(doc["reserved"]))


def reservation_doc(reservation: Reservation) -> dict[str, Any]:
    return {
        "orderId": reservation.order_id,
        "status": reservation.status.value,
        "items": [
            {"productId": i.product_id, "name": i.name, "unitPrice": f"{i.unit_price:.2f}", "quantity": i.quantity}
            for i in reservation.items
        ],
        "total": f"{reservation.total:.2f}",
    }


def reservation_of(doc: dict[str, Any]) -> Reservation:
    items = tuple(
        ReservationLine(i["productId"], i["name"], Decimal(i["unitPrice"]), int(i["quantity"])) for i in doc["items"]
    )
    return Reservation(doc["orderId"], ReservationStatus(doc["status"]), items)


class CatalogRepository(Protocol):
    """The port the use cases read and write catalog's state through; DaprStateCatalogRepository is the adapter."""

    def writing(self, product_ids: Iterable[str]) -> AbstractAsyncContextManager[None]: ...
    async def product(self, product_id: str) -> Versioned[Product] | None: ...
    async def products(self, product_ids: Sequence[str]) -> list[Versioned[Product] | None]: ...
    async def sku_owner(self, sku: str) -> str | None: ...
    async def index_page(self, *, offset: int, limit: int) -> tuple[list[str], int]: ...
    async def indexed(self, product_id: str) -> list[StateOp]: ...
    async def reservation(self, order_id: str) -> Versioned[Reservation] | None: ...
    async def save(self, operations: list[StateOp], events: Sequence[StockChanged]) -> None: ...


class DaprStateCatalogRepository:
    """Reads and atomic writes of catalog's state through the app's sidecar."""

    def __init__(self, sidecar: SidecarClient, outbox: StateOutbox) -> None:
        self.sidecar = sidecar
        self.outbox = outbox
        self.product_ids = PagedIndex(sidecar, INDEX_KEY, legacy_key=LEGACY_INDEX_KEY)
        self._writers = KeyedLocks()

    def writing(self, product_ids: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """Queue this process's writers of these products (ETags still guard other replicas)."""
        return self._writers.hold(product_ids)

    async def product(self, product_id: str) -> Versioned[Product] | None:
        item = await self.sidecar.get_state(product_key(product_id))
        return None if item is None else Versioned(product_of(item.value), item.etag)

    async def products(self, product_ids: Sequence[str]) -> list[Versioned[Product] | None]:
        """Read several products at once, in the order asked."""
        return list(await asyncio.gather(*(self.product(product_id) for product_id in product_ids)))

    async def sku_owner(self, sku: str) -> str | None:
        item = await self.sidecar.get_state(sku_key(sku))
        return None if item is None else str(item.value["productId"])

    async def index_page(self, *, offset: int, limit: int) -> tuple[list[str], int]:
        """One page of product ids in creation order, and how many there are."""
        found = await self.product_ids.slice(offset=offset, limit=limit)
        return found.ids, found.total

    async def indexed(self, product_id: str) -> list[StateOp]:
        """The operations that append a product to the index, for the transaction that creates it."""
        return await self.product_ids.append(product_id)

    async def reservation(self, order_id: str) -> Versioned[Reservation] | None:
        item = await self.sidecar.get_state(reservation_key(order_id))
        return None if item is None else Versioned(reservation_of(item.value), item.etag)

    async def save(self, operations: list[StateOp], events: Sequence[StockChanged]) -> None:
        """Write everything and stage the events in one transaction; Conflict(ETAG_MISMATCH) on a clash."""
        await self.outbox.commit(operations, [(event.topic, new_event(event.payload())) for event in events])


def put_product(product: Product, etag: str | None) -> StateOp:
    """Update a product under the ETag it was read with; without one, insert it (never overwrite blindly)."""
    return StateOp(product_key(product.id), product_doc(product), etag=etag, insert_only=etag is None)


def claim_sku(sku: str, product_id: str) -> StateOp:
    return StateOp(sku_key(sku), {"productId": product_id}, insert_only=True)


def put_reservation(reservation: Reservation, etag: str | None) -> StateOp:
    """Update a reservation under its ETag, or insert it (insert-only: one reservation per order)."""
    return StateOp(
        reservation_key(reservation.order_id), reservation_doc(reservation), etag=etag, insert_only=etag is None
    )
