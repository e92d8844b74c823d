"""orders' test kit: a migrated database per test, readers of the outbox and the stored rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from apps.orders.domain import Order, PlaceOrder, RequestedLine
from apps.orders.storage import outbox
from servicekit import EventEnvelope, new_event
from tests.unit.orders.fakes import Deps, FakePeers, migrated_engine


async def topics(deps: Deps) -> list[str]:
    async with deps.uow_engine.connect() as connection:
        return [row.topic for row in (await connection.execute(select(outbox.c.topic).order_by(outbox.c.created_at)))]


async def stored(deps: Deps, order_id: str) -> Order:
    """The row as stored, internal statuses included."""
    async with deps.uow() as work:
        order = await work.orders.get(order_id)
    assert order is not None
    return order


def run(tmp_path: Path, scenario: Callable[[Deps], Awaitable[None]], peers: FakePeers | None = None) -> None:
    engine = migrated_engine(tmp_path)

    async def with_cleanup() -> None:
        try:
            await scenario(Deps(engine, peers or FakePeers()))
        finally:
            await engine.dispose()

    asyncio.run(with_cleanup())


def order_of(user: str = "u1", quantity: int = 2, *, key: str | None = None, token: str = "tok_ok") -> PlaceOrder:
    return PlaceOrder(user, (RequestedLine("p1", quantity),), token, key or uuid.uuid4().hex)


def paid(order_id: str, payment_id: str = "pay1") -> EventEnvelope:
    return new_event({"orderId": order_id, "paymentId": payment_id, "userId": "u1", "amount": 5})


def declined(order_id: str) -> EventEnvelope:
    return new_event({"orderId": order_id, "reason": "INSUFFICIENT_FUNDS", "userId": "u1"})


def count(items: list[Any], item: Any) -> int:
    return sum(1 for x in items if x == item)
