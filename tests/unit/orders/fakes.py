"""A stand-in for identity and catalog, keeping reservations the way catalog does (release is terminal)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apps.orders.domain import RequestedLine
from apps.orders.storage import SqlUnitOfWork
from servicekit import Conflict, DependencyUnavailable, NotFound
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(__file__).resolve().parents[3] / "apps" / "orders" / "migrations"
Hook = Callable[[str], Awaitable[None]]


@dataclass
class FakePeers:
    users: set[str] = field(default_factory=lambda: {"u1", "u2"})
    stock: dict[str, int] = field(default_factory=lambda: {"p1": 5, "p2": 5})
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    """Operations (`reserve`, `commit`, `release`) that answer 503 without doing anything."""
    lost_answers: set[str] = field(default_factory=set)
    """Operations that are applied, and then their answer is lost (a timeout after catalog applied it)."""
    hooks: dict[str, Hook] = field(default_factory=dict)
    """Awaited once inside an operation (before it applies), to interleave another use case there."""
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def ensure_user(self, user_id: str) -> None:
        if user_id not in self.users:
            raise NotFound("No such user.", code="USER_NOT_FOUND")

    async def _enter(self, operation: str, order_id: str) -> None:
        self.calls.append((operation, order_id))
        hook = self.hooks.pop(operation, None)
        if hook is not None:
            await hook(order_id)
        if operation in self.down:
            raise DependencyUnavailable("The catalog service is unavailable.", code="SERVICE_UNAVAILABLE")

    def _leave(self, operation: str) -> None:
        if operation in self.lost_answers:
            raise DependencyUnavailable("The catalog service did not answer in time.", code="UPSTREAM_TIMEOUT")

    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]:
        await self._enter("reserve", order_id)
        existing = self.reservations.get(order_id)
        if existing is not None and existing["status"] == "RELEASED":
            raise Conflict("Released.", code="RESERVATION_RELEASED")
        if existing is None:
            for line in lines:
                if line.product_id not in self.stock:
                    raise NotFound("No such product.", code="PRODUCT_NOT_FOUND")
                if self.stock[line.product_id] < line.quantity:
                    raise Conflict("Not enough stock.", code="OUT_OF_STOCK")
            for line in lines:
                self.stock[line.product_id] -= line.quantity
            items = [
                {"productId": x.product_id, "name": "Widget", "unitPrice": 2.5, "quantity": x.quantity} for x in lines
            ]
            existing = self.reservations[order_id] = {"status": "RESERVED", "items": items}
        self._leave("reserve")
        return {"orderId": order_id, **existing}

    async def commit(self, order_id: str) -> None:
        await self._enter("commit", order_id)
        reservation = self.reservations.get(order_id)
        if reservation is None:
            raise NotFound("No such reservation.", code="RESERVATION_NOT_FOUND")
        if reservation["status"] == "RELEASED":
            raise Conflict("Released.", code="RESERVATION_RELEASED")
        reservation["status"] = "COMMITTED"
        self._leave("commit")

    async def release(self, order_id: str) -> None:
        await self._enter("release", order_id)
        reservation = self.reservations.setdefault(order_id, {"status": "RELEASED", "items": []})  # a tombstone
        if reservation["status"] != "RELEASED":
            for item in reservation["items"]:
                self.stock[item["productId"]] += item["quantity"]
            reservation["status"] = "RELEASED"
        self._leave("release")

    def held(self) -> int:
        """Units reserved but neither committed nor released."""
        return sum(
            item["quantity"] for r in self.reservations.values() if r["status"] == "RESERVED" for item in r["items"]
        )


@dataclass
class Deps:
    uow_engine: AsyncEngine
    peers: FakePeers
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    payment_timeout: timedelta = timedelta(minutes=15)
    place_budget: timedelta = timedelta(seconds=10)
    placing_deadline: timedelta = timedelta(seconds=60)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.uow_engine)

    def clock(self) -> datetime:
        return self.now


def migrated_engine(tmp_path: Path) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    upgrade_to_head(MIGRATIONS, url)
    return create_async_engine(url)
