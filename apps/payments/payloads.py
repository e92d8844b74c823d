"""The event payloads payments reads (docs/events.md), parsed strictly enough to refuse bad ones."""

from __future__ import annotations

from typing import Any

from servicekit.payloads import Id, Money, Payload


class OrderCreated(Payload):
    order_id: Id
    user_id: Id
    total: Money
    items: list[dict[str, Any]]
    payment_token: str


class OrderClosed(Payload):
    """`order.cancelled` (with a reason) and `order.expired`."""

    order_id: Id
    user_id: Id
    total: Money
    reason: str | None = None
