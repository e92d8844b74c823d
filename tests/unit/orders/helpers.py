"""orders' test kit: commands and payment events to feed the use cases, readers of the outbox and the stored rows."""

from __future__ import annotations

import uuid
from typing import Any

from apps.orders.domain import Order, PlaceOrder, RequestedLine
from servicekit import EventEnvelope, new_event
from tests.unit.orders.fakes import Deps


async def topics(deps: Deps) -> list[str]:
    """The topics recorded in the outbox, oldest first."""
    return [topic for topic, _ in deps.database.outbox]


async def stored(deps: Deps, order_id: str) -> Order:
    """The row as stored, internal statuses included."""
    async with deps.uow() as work:
        order = await work.orders.get(order_id)
    assert order is not None
    return order


def order_of(user: str = "u1", quantity: int = 2, *, key: str | None = None, token: str = "tok_ok") -> PlaceOrder:
    return PlaceOrder(user, (RequestedLine("p1", quantity),), token, key or uuid.uuid4().hex)


def paid(order_id: str, payment_id: str = "pay1") -> EventEnvelope:
    return new_event({"orderId": order_id, "paymentId": payment_id, "userId": "u1", "amount": 5})


def declined(order_id: str) -> EventEnvelope:
    return new_event({"orderId": order_id, "reason": "INSUFFICIENT_FUNDS", "userId": "u1"})


def count(items: list[Any], item: Any) -> int:
    return sum(1 for x in items if x == item)
