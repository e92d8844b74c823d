"""Orders: the pure model, its commands, transitions and events; its errors are in errors.py.

Lifecycle: PLACING -> PENDING_PAYMENT -> CONFIRMED | CANCELLED | EXPIRED, and CONFIRMED -> CANCELLED.
PLACING (recorded before catalog reserves) and FAILED (a placement that never completed) are internal:
reads never show them, so the public statuses stay the four of the API. The order row is the single
source of truth for stock: every move into a closed status sets `settlement_due`, and the reservation
in catalog is then committed (CONFIRMED) or released (every other closed status) to match it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from apps.orders.errors import (
    IllegalTransition,
    InvalidIdempotencyKey,
    InvalidItems,
    InvalidQuantity,
    OrderNotCancellable,
)
from servicekit.keys import derived_id, valid_idempotency_key

MAX_LINES, MAX_QUANTITY = 50, 1000
"""1 to 128 printable ASCII characters, as the gateway checks them."""


class OrderStatus(StrEnum):
    PLACING = "PLACING"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


PUBLIC_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)
NEXT: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACING: frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.FAILED}),
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.CANCELLED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}
"""The lifecycle: where each status may move; the transitions below refuse every other step."""
CANCELLABLE = tuple(status for status, targets in NEXT.items() if OrderStatus.CANCELLED in targets)


@dataclass(frozen=True)
class RequestedLine:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class PlaceOrder:
    """Command: buy these quantities, paying with this token."""

    user_id: str
    lines: tuple[RequestedLine, ...]
    payment_token: str
    idempotency_key: str


@dataclass(frozen=True)
class CancelOrder:
    """Command: cancel an order as its owner or as an admin."""

    order_id: str
    user_id: str
    is_admin: bool


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    name: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class Order:
    id: str
    user_id: str
    status: OrderStatus
    total: Decimal
    lines: tuple[OrderLine, ...]
    payment_token: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    payment_id: str | None = None
    cancel_reason: str | None = None
    request_hash: str | None = None
    """What the placing request asked for, to tell a retry from a reused Idempotency-Key."""
    settlement_due: bool = False
    """Closed, but catalog has not yet confirmed the commit or release that matches the status."""

    def visible_to(self, user_id: str, *, is_admin: bool) -> bool:
        return self.status in PUBLIC_STATUSES and (is_admin or self.user_id == user_id)

    @property
    def keeps_stock(self) -> bool:
        """True when the reservation settles by commit; every other closed order's is released."""
        return self.status is OrderStatus.CONFIRMED

    def _moved(self, to: OrderStatus, now: datetime, **changes: Any) -> Order:
        """This order in status `to`; IllegalTransition when its lifecycle does not lead there."""
        if to not in NEXT[self.status]:
            raise IllegalTransition(f"An order that is {self.status} cannot become {to}.")
        return replace(self, status=to, updated_at=now, **changes)

    def placed(self, reservation: dict[str, Any], *, now: datetime, payment_timeout: timedelta) -> Order:
        """The PLACING order made pending, with catalog's names and prices (they are authoritative)."""
        lines = tuple(
            OrderLine(item["productId"], item["name"], Decimal(str(item["unitPrice"])), int(item["quantity"]))
            for item in reservation["items"]
        )
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0")).quantize(Decimal("0.01"))
        return self._moved(OrderStatus.PENDING_PAYMENT, now, total=total, lines=lines, expires_at=now + payment_timeout)

    def failed(self, reason: str, now: datetime) -> Order:
        """Close a placement that will never complete; whatever it may have reserved is released."""
        return self._moved(OrderStatus.FAILED, now, cancel_reason=reason, settlement_due=True)

    def confirmed(self, payment_id: str, now: datetime) -> Order:
        return self._moved(OrderStatus.CONFIRMED, now, payment_id=payment_id, settlement_due=True)

    def cancelled(self, reason: str, now: datetime) -> Order:
        if self.status not in CANCELLABLE:
            raise OrderNotCancellable(f"An order that is {self.status} cannot be cancelled.")
        return self._moved(OrderStatus.CANCELLED, now, cancel_reason=reason, settlement_due=True)

    def expired(self, now: datetime) -> Order:
        return self._moved(OrderStatus.EXPIRED, now, settlement_due=True)


@dataclass(frozen=True)
class OrderEvent:
    """What every order event tells: which order, whose, for how much; each subclass names its topic."""

    order_id: str
    user_id: str
    total: Decimal

    topic: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        return {"orderId": self.order_id, "userId": self.user_id, "total": float(self.total)}


@dataclass(frozen=True)
class OrderCreated(OrderEvent):
    """Event: an order was placed and waits for its payment (payments charges its token)."""

    lines: tuple[OrderLine, ...]
    payment_token: str

    topic = "order.created"

    @classmethod
    def of(cls, order: Order) -> OrderCreated:
        return cls(order.id, order.user_id, order.total, order.lines, order.payment_token)

    def payload(self) -> dict[str, Any]:
        items = [
            {"productId": x.product_id, "name": x.name, "unitPrice": float(x.unit_price), "quantity": x.quantity}
            for x in self.lines
        ]
        return {**super().payload(), "items": items, "paymentToken": self.payment_token}


@dataclass(frozen=True)
class OrderConfirmed(OrderEvent):
    """Event: an order was paid; its reservation is committed."""

    payment_id: str | None

    topic = "order.confirmed"

    @classmethod
    def of(cls, order: Order) -> OrderConfirmed:
        return cls(order.id, order.user_id, order.total, order.payment_id)

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "paymentId": self.payment_id}


@dataclass(frozen=True)
class OrderCancelled(OrderEvent):
    """Event: an order was cancelled (by its owner, an admin or a failed payment); payments refunds a paid one."""

    previous_status: OrderStatus
    reason: str | None

    topic = "order.cancelled"

    @classmethod
    def between(cls, before: Order, after: Order) -> OrderCancelled:
        return cls(after.id, after.user_id, after.total, before.status, after.cancel_reason)

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "previousStatus": self.previous_status.value, "reason": self.reason}


@dataclass(frozen=True)
class OrderExpired(OrderEvent):
    """Event: an order went unpaid past its deadline; payments refunds a charge that lands after it."""

    topic = "order.expired"

    @classmethod
    def of(cls, order: Order) -> OrderExpired:
        return cls(order.id, order.user_id, order.total)


def merge_lines(lines: tuple[RequestedLine, ...]) -> tuple[RequestedLine, ...]:
    """Check the requested lines and add up repeated products."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidItems(f"An order has 1 to {MAX_LINES} lines.")
    totals: dict[str, int] = {}
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            message = f"Quantities are whole numbers from 1 to {MAX_QUANTITY}."
            raise InvalidQuantity(message, details={"productId": line.product_id})
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return tuple(RequestedLine(product_id, quantity) for product_id, quantity in totals.items())


def check_idempotency_key(key: str) -> str:
    if not valid_idempotency_key(key):
        raise InvalidIdempotencyKey("An Idempotency-Key has 1 to 128 printable ASCII characters.")
    return key


def order_id_for(user_id: str, idempotency_key: str) -> str:
    """The order a customer's key stands for: the same key from the same customer is the same order."""
    scoped = f"{len(user_id)}:{user_id}:{idempotency_key}"  # length-prefixed: no two (user, key) pairs collide
    return derived_id(scoped)


def request_hash(lines: tuple[RequestedLine, ...], payment_token: str) -> str:
    """A fingerprint of what was asked for (lines already merged), independent of line order."""
    asked = {"lines": sorted([line.product_id, line.quantity] for line in lines), "token": payment_token}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def placing_order(
    command: PlaceOrder, lines: tuple[RequestedLine, ...], *, now: datetime, deadline: timedelta
) -> Order:
    """The order as first recorded, before catalog reserves: PLACING until `deadline`, then reaped."""
    return Order(
        order_id_for(command.user_id, command.idempotency_key),
        command.user_id,
        OrderStatus.PLACING,
        Decimal("0.00"),
        tuple(OrderLine(line.product_id, "", Decimal("0.00"), line.quantity) for line in lines),
        command.payment_token,
        now,
        now,
        now + deadline,
        request_hash=request_hash(lines, command.payment_token),
    )
