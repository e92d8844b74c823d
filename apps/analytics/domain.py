"""The platform summary: the pure model, the command that feeds it, and its arithmetic (also across shards)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from servicekit.dedupe import already_applied

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Observe:
    """Command: count one event, and move an order between statuses or change revenue if it says so."""

    topic: str
    event_id: str
    leave: OrderStatus | None = None
    enter: OrderStatus | None = None
    revenue: Decimal = ZERO
    registrations: int = 0


def _no_orders() -> dict[OrderStatus, int]:
    return dict.fromkeys(OrderStatus, 0)


@dataclass(frozen=True)
class Summary:
    orders_by_status: dict[OrderStatus, int] = field(default_factory=_no_orders)
    revenue: Decimal = ZERO
    registrations: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    seen: tuple[str, ...] = ()
    """Event ids a shard remembered before applied-event markers (servicekit.dedupe); never grows now."""

    def observe(self, command: Observe) -> Summary | None:
        """The summary with the event counted, or None if that event was counted already."""
        if already_applied(self.seen, command.event_id):
            return None
        orders = {**_no_orders(), **self.orders_by_status}
        if command.leave is not None:
            # Events of one order can arrive out of order; a count never goes below zero.
            orders[command.leave] = max(0, orders[command.leave] - 1)
        if command.enter is not None:
            orders[command.enter] += 1
        counts = {**self.event_counts, command.topic: self.event_counts.get(command.topic, 0) + 1}
        return Summary(
            orders_by_status=orders,
            revenue=(self.revenue + command.revenue).quantize(CENT, rounding=ROUND_HALF_UP),
            registrations=self.registrations + command.registrations,
            event_counts=counts,
            seen=self.seen,
        )


def merged(parts: Iterable[Summary]) -> Summary:
    """One summary adding up the figures of several (the shards); each part keeps its own `seen`."""
    orders = _no_orders()
    revenue = ZERO
    registrations = 0
    counts: dict[str, int] = {}
    for part in parts:
        for status, n in part.orders_by_status.items():
            orders[status] += n
        revenue += part.revenue
        registrations += part.registrations
        for topic, n in part.event_counts.items():
            counts[topic] = counts.get(topic, 0) + n
    return Summary(
        orders_by_status=orders,
        revenue=revenue.quantize(CENT, rounding=ROUND_HALF_UP),
        registrations=registrations,
        event_counts=counts,
    )


def counted(topic: str, event_id: str) -> Observe:
    return Observe(topic, event_id)


def user_registered(event_id: str) -> Observe:
    return Observe("user.registered", event_id, registrations=1)


def order_created(event_id: str) -> Observe:
    return Observe("order.created", event_id, enter=OrderStatus.PENDING_PAYMENT)


def order_confirmed(event_id: str, total: Decimal) -> Observe:
    return Observe("order.confirmed", event_id, OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, revenue=total)


def order_cancelled(event_id: str, previous: OrderStatus, total: Decimal) -> Observe:
    """A cancelled paid order gives its revenue back (it was refunded)."""
    refunded = -total if previous is OrderStatus.CONFIRMED else ZERO
    return Observe("order.cancelled", event_id, previous, OrderStatus.CANCELLED, revenue=refunded)


def order_expired(event_id: str) -> Observe:
    return Observe("order.expired", event_id, OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED)
