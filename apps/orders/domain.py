"""Orders: the pure model, its commands, transitions, events and errors."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from servicekit import Conflict, NotFound, ValidationFailed

MAX_LINES, MAX_QUANTITY = 50, 1000


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


CANCELLABLE = (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED)


class OrderNotFound(NotFound):
    default_code = "ORDER_NOT_FOUND"


class OrderNotCancellable(Conflict):
    default_code = "ORDER_NOT_CANCELLABLE"


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

    def visible_to(self, user_id: str, *, is_admin: bool) -> bool:
        return is_admin or self.user_id == user_id

    def confirmed(self, payment_id: str, now: datetime) -> Order:
        return replace(self, status=OrderStatus.CONFIRMED, payment_id=payment_id, updated_at=now)

    def cancelled(self, reason: str, now: datetime) -> Order:
        if self.status not in CANCELLABLE:
            raise OrderNotCancellable(f"An order that is {self.status} cannot be cancelled.")
        return replace(self, status=OrderStatus.CANCELLED, cancel_reason=reason, updated_at=now)

    def expired(self, now: datetime) -> Order:
        return replace(self, status=OrderStatus.EXPIRED, updated_at=now)

    def base_payload(self) -> dict[str, Any]:
        return {"orderId": self.id, "userId": self.user_id, "total": float(self.total)}

    def created_payload(self) -> dict[str, Any]:
        items = [
            {"productId": x.product_id, "name": x.name, "unitPrice": float(x.unit_price), "quantity": x.quantity}
            for x in self.lines
        ]
        return {**self.base_payload(), "items": items, "paymentToken": self.payment_token}


def merge_lines(lines: tuple[RequestedLine, ...]) -> tuple[RequestedLine, ...]:
    """Check the requested lines and add up repeated products."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise ValidationFailed(f"An order has 1 to {MAX_LINES} lines.", code="INVALID_ITEMS")
    totals: dict[str, int] = {}
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            message = f"Quantities are whole numbers from 1 to {MAX_QUANTITY}."
            raise ValidationFailed(message, code="INVALID_QUANTITY", details={"productId": line.product_id})
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return tuple(RequestedLine(product_id, quantity) for product_id, quantity in totals.items())


def new_order(
    order_id: str, command: PlaceOrder, reservation: dict[str, Any], *, now: datetime, payment_timeout: timedelta
) -> Order:
    """Build the pending order from what catalog reserved (its names and prices are authoritative)."""
    lines = tuple(
        OrderLine(item["productId"], item["name"], Decimal(str(item["unitPrice"])), int(item["quantity"]))
        for item in reservation["items"]
    )
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0")).quantize(Decimal("0.01"))
    return Order(
        order_id,
        command.user_id,
        OrderStatus.PENDING_PAYMENT,
        total,
        lines,
        command.payment_token,
        now,
        now,
        now + payment_timeout,
    )
