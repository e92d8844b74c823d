"""A stand-in for identity and catalog, keeping reservations the way catalog does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apps.orders.domain import RequestedLine
from apps.orders.storage import SqlUnitOfWork
from servicekit import Conflict, NotFound
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(__file__).resolve().parents[3] / "apps" / "orders" / "migrations"


@dataclass
class FakePeers:
    users: set[str] = field(default_factory=lambda: {"u1", "u2"})
    stock: dict[str, int] = field(default_factory=lambda: {"p1": 5})
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)
    catalog_down: bool = False

    async def ensure_user(self, user_id: str) -> None:
        if user_id not in self.users:
            raise NotFound("No such user.", code="USER_NOT_FOUND")

    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]:
        for line in lines:
            if line.product_id not in self.stock:
                raise NotFound("No such product.", code="PRODUCT_NOT_FOUND")
            if self.stock[line.product_id] < line.quantity:
                raise Conflict("Not enough stock.", code="OUT_OF_STOCK")
        for line in lines:
            self.stock[line.product_id] -= line.quantity
        items = [{"productId": x.product_id, "name": "Widget", "unitPrice": 2.5, "quantity": x.quantity} for x in lines]
        self.reservations[order_id] = {"status": "RESERVED", "items": items}
        return {"orderId": order_id, "status": "RESERVED", "items": items}

    async def commit(self, order_id: str) -> None:
        if self.reservations[order_id]["status"] == "RELEASED":
            raise Conflict("Released.", code="RESERVATION_RELEASED")
        self.reservations[order_id]["status"] = "COMMITTED"

    async def release(self, order_id: str) -> None:
        reservation = self.reservations[order_id]
        if reservation["status"] != "RELEASED":
            for item in reservation["items"]:
                self.stock[item["productId"]] += item["quantity"]
            reservation["status"] = "RELEASED"


@dataclass
class Deps:
    uow_engine: AsyncEngine
    peers: FakePeers
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    payment_timeout: timedelta = timedelta(minutes=15)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.uow_engine)

    def clock(self) -> datetime:
        return self.now


def migrated_engine(tmp_path: Path) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    upgrade_to_head(MIGRATIONS, url)
    return create_async_engine(url)
