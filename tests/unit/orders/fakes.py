"""In-memory stand-ins for orders' ports: the unit of work and its repository, and identity and catalog.

`FakeUnitOfWork` keeps SQLite's rules that the use cases rely on: one transaction at a time, changes seen by
others only once committed, events kept only with the commit; every call yields to the loop, as a database
round trip does, so concurrent use cases interleave. `FakeOrderPeers` keeps reservations the way catalog does
(release is terminal).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from apps.orders.domain import PUBLIC_STATUSES, Order, OrderStatus, RequestedLine
from apps.orders.peers import OrderPeers
from apps.orders.service import Timeouts
from apps.orders.service.settlement import UnitOfWorkFactory
from apps.orders.storage import UnitOfWork
from servicekit import Conflict, DependencyUnavailable, EventEnvelope, NotFound
from servicekit.clock import Clock

Hook = Callable[[str], Awaitable[None]]
TIMEOUTS = Timeouts(
    place_budget=timedelta(seconds=10), placing_deadline=timedelta(seconds=60), payment_timeout=timedelta(minutes=15)
)


async def _round_trip() -> None:
    await asyncio.sleep(0)


@dataclass
class FakeDatabase:
    """What `FakeUnitOfWork`s commit to: orders by id, applied event ids, and the outbox as (topic, event)."""

    orders: dict[str, Order] = field(default_factory=dict)
    processed: dict[str, str] = field(default_factory=dict)
    outbox: list[tuple[str, EventEnvelope]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder: asyncio.Task[Any] | None = None


class FakeOrderRepository:
    """The orders one transaction sees: a copy of the committed ones, with its own changes."""

    def __init__(self, rows: dict[str, Order]) -> None:
        self.rows = rows

    async def add(self, order: Order) -> bool:
        await _round_trip()
        if order.id in self.rows:
            return False
        self.rows[order.id] = order
        return True

    async def get(self, order_id: str) -> Order | None:
        await _round_trip()
        return self.rows.get(order_id)

    async def page(self, *, user_id: str | None, limit: int, offset: int) -> tuple[list[Order], int]:
        await _round_trip()
        shown = [o for o in self.rows.values() if o.status in PUBLIC_STATUSES and user_id in (None, o.user_id)]
        newest_first = sorted(sorted(shown, key=lambda o: o.id), key=lambda o: o.created_at, reverse=True)
        return newest_first[offset : offset + limit], len(shown)

    async def overdue(self, status: OrderStatus, now: datetime, limit: int) -> list[Order]:
        await _round_trip()
        due = [o for o in self.rows.values() if o.status is status and o.expires_at < now]
        return sorted(due, key=lambda o: o.expires_at)[:limit]

    async def unsettled(self, limit: int) -> list[Order]:
        await _round_trip()
        return sorted((o for o in self.rows.values() if o.settlement_due), key=lambda o: o.updated_at)[:limit]

    async def complete(self, order: Order) -> bool:
        await _round_trip()
        current = self.rows.get(order.id)
        if current is None or current.status is not OrderStatus.PLACING:
            return False
        self.rows[order.id] = replace(
            current,
            status=order.status,
            total=order.total,
            lines=order.lines,
            updated_at=order.updated_at,
            expires_at=order.expires_at,
        )
        return True

    async def transition(self, order: Order, *, expected: OrderStatus) -> bool:
        await _round_trip()
        current = self.rows.get(order.id)
        if current is None or current.status is not expected:
            return False
        self.rows[order.id] = replace(
            current,
            status=order.status,
            payment_id=order.payment_id,
            cancel_reason=order.cancel_reason,
            updated_at=order.updated_at,
            settlement_due=order.settlement_due,
        )
        return True

    async def settled(self, order_id: str, status: OrderStatus) -> None:
        await _round_trip()
        current = self.rows.get(order_id)
        if current is not None and current.status is status:
            self.rows[order_id] = replace(current, settlement_due=False)


class FakeUnitOfWork:
    """One in-memory transaction over a `FakeDatabase`; leaving it without a commit keeps nothing."""

    def __init__(self, database: FakeDatabase) -> None:
        self.database = database
        self.orders = FakeOrderRepository({})
        self._processed: dict[str, str] = {}
        self._recorded: list[tuple[str, EventEnvelope]] = []
        self._open = False

    async def __aenter__(self) -> FakeUnitOfWork:
        if self.database.holder is not None and self.database.holder is asyncio.current_task():
            raise RuntimeError("A unit of work is already open in this task: it would wait for itself.")
        await self.database.lock.acquire()  # one transaction at a time, as SQLite has one writer
        self.database.holder, self._open = asyncio.current_task(), True
        self.orders = FakeOrderRepository(dict(self.database.orders))
        self._processed, self._recorded = dict(self.database.processed), []
        await _round_trip()
        return self

    async def __aexit__(self, *_: object) -> None:
        self._end()

    async def mark_processed(self, event_id: str, topic: str, now: datetime) -> bool:
        await _round_trip()
        if event_id in self._processed:
            return False
        self._processed[event_id] = topic
        return True

    async def record(self, topic: str, event: EventEnvelope) -> None:
        await _round_trip()
        self._recorded.append((topic, event))

    async def commit(self) -> None:
        await _round_trip()
        if not self._open:
            raise RuntimeError("This unit of work has ended: open another one.")
        self.database.orders, self.database.processed = dict(self.orders.rows), dict(self._processed)
        self.database.outbox.extend(self._recorded)
        self._end()

    def _end(self) -> None:
        if self._open:
            self._open, self.database.holder = False, None
            self.database.lock.release()


@dataclass
class FakeOrderPeers:
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


class Ports(TypedDict):
    """The ports most use cases take (placing takes `timeouts` too, reads only `uow`), as keyword arguments."""

    uow: UnitOfWorkFactory
    peers: OrderPeers
    clock: Clock


@dataclass
class Deps:
    """What the use cases get in unit tests: an in-memory database, the peers' stand-in, a clock the test moves."""

    peers: FakeOrderPeers = field(default_factory=FakeOrderPeers)
    database: FakeDatabase = field(default_factory=FakeDatabase)
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    timeouts: Timeouts = TIMEOUTS

    def uow(self) -> UnitOfWork:
        return FakeUnitOfWork(self.database)

    def clock(self) -> datetime:
        return self.now

    @property
    def ports(self) -> Ports:
        return Ports(uow=self.uow, peers=self.peers, clock=self.clock)
