"""Reservations: an order's hold on stock, and the pure steps that reserve, commit and release it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from apps.catalog.domain import (
    CENT,
    InvalidItems,
    InvalidQuantity,
    Product,
    ReservationReleased,
    ReservationStatus,
    StockChanged,
    StockReason,
)

LINES_MAX = 50
QUANTITY_MAX = 1000


@dataclass(frozen=True)
class ReserveLine:
    product_id: str
    quantity: int | float


@dataclass(frozen=True)
class ReserveStock:
    """Command: hold stock for an order, every line or none."""

    order_id: str
    lines: Sequence[ReserveLine]


@dataclass(frozen=True)
class ReservationLine:
    product_id: str
    name: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class Reservation:
    order_id: str
    status: ReservationStatus
    items: tuple[ReservationLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.items), Decimal(0)).quantize(CENT)


@dataclass(frozen=True)
class StockMoved:
    """What a reservation step decided: the reservation, the products it changed and the events."""

    reservation: Reservation
    products: list[Product]
    events: list[StockChanged]


def merge_lines(lines: Sequence[ReserveLine]) -> dict[str, int]:
    """Check the lines and add up the quantities of each product, keeping the order they came in."""
    if not 1 <= len(lines) <= LINES_MAX:
        raise InvalidItems.for_field("items", f"A reservation has 1 to {LINES_MAX} lines.")
    merged: dict[str, int] = {}
    for line in lines:
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= QUANTITY_MAX:
            message = f"A quantity is a whole number from 1 to {QUANTITY_MAX}."
            raise InvalidQuantity(message, details={"productId": line.product_id, "quantity": quantity})
        merged[line.product_id] = merged.get(line.product_id, 0) + quantity
    return merged


def reserve(order_id: str, quantities: Mapping[str, int], products: Mapping[str, Product]) -> StockMoved:
    """Reserve every line or raise OutOfStock for the first line that cannot be served."""
    lines, changed, events = [], [], []
    for product_id, quantity in quantities.items():
        before = products[product_id]
        after = before.reserve(quantity)
        lines.append(ReservationLine(product_id, before.name, before.price, quantity))
        changed.append(after)
        events.append(StockChanged.between(before, after, StockReason.RESERVED, order_id))
    return StockMoved(Reservation(order_id, ReservationStatus.RESERVED, tuple(lines)), changed, events)


def commit(reservation: Reservation, products: Mapping[str, Product]) -> StockMoved:
    """Turn a RESERVED reservation into COMMITTED; the reserved units leave the store (a repeat moves nothing)."""
    if reservation.status is ReservationStatus.RELEASED:
        raise ReservationReleased("The reservation was already released.", details={"orderId": reservation.order_id})
    return _move(reservation, products, ReservationStatus.COMMITTED, StockReason.COMMITTED)


def release(reservation: Reservation, products: Mapping[str, Product]) -> StockMoved:
    """Give a reservation's units back to stock, whether they were only reserved or already committed.

    Releasing a RELEASED reservation moves nothing: its units are back already.
    """
    return _move(reservation, products, ReservationStatus.RELEASED, StockReason.RELEASED)


def _move(
    reservation: Reservation, products: Mapping[str, Product], to: ReservationStatus, reason: StockReason
) -> StockMoved:
    if reservation.status is to:  # a repeat: moving its units again would take them from other orders
        return StockMoved(reservation, [], [])
    changed, events = [], []
    for line in reservation.items:
        before = products[line.product_id]
        if to is ReservationStatus.COMMITTED:
            after = before.commit(line.quantity)
        else:
            after = before.release(line.quantity, committed=reservation.status is ReservationStatus.COMMITTED)
        changed.append(after)
        events.append(StockChanged.between(before, after, reason, reservation.order_id))
    return StockMoved(replace(reservation, status=to), changed, events)
