"""orders' use cases: place, read, cancel, apply payment outcomes, expire; dependencies are keyword arguments.

Every change follows one rule: move the order row first (a conditional transition, in one transaction
with its outbox event), then settle the reservation in catalog to match it (`settlement`). The row is
the single source of truth; a settlement that fails is retried by the expiry tick.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from apps.orders.domain import (
    CANCELLABLE,
    CancelOrder,
    Order,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderExpired,
    OrderStatus,
    PlaceOrder,
    RequestedLine,
    merge_lines,
    placing_order,
    request_hash,
)
from apps.orders.errors import (
    IdempotencyKeyReused,
    InvalidEvent,
    OrderBusy,
    OrderNotFound,
    OrderNotPlaced,
    OrderPlacing,
    PlaceTimeout,
    UnknownOrder,
)
from apps.orders.peers import OrderPeers
from apps.orders.service.settlement import UnitOfWorkFactory, close_placing, reap_placing, settle, settle_due
from servicekit import EventEnvelope, JunctionError, new_event
from servicekit.clock import Clock
from servicekit.errors import is_transient


@dataclass(frozen=True)
class Timeouts:
    """How long a placement may take, how long its PLACING row may live, how long a placed order waits to be paid."""

    place_budget: timedelta
    placing_deadline: timedelta
    payment_timeout: timedelta


async def find(order_id: str, *, uow: UnitOfWorkFactory) -> Order | None:
    """The stored order, whatever its status (internal ones included)."""
    async with uow() as work:
        return await work.orders.get(order_id)


async def place_order(
    command: PlaceOrder, *, uow: UnitOfWorkFactory, peers: OrderPeers, clock: Clock, timeouts: Timeouts
) -> Order:
    """Record the order as PLACING, reserve its stock, then make it PENDING_PAYMENT with `order.created`.

    The id comes from (user, Idempotency-Key): a repeat of a PLACING order completes it, a repeat of a
    placed one gets it back, the same key with another body is IDEMPOTENCY_KEY_REUSED. A placement that
    dies midway stays PLACING until the expiry tick reaps it after the placing deadline.
    """
    lines = merge_lines(command.lines)
    try:
        async with asyncio.timeout(timeouts.place_budget.total_seconds()):
            return await _place(command, lines, uow=uow, peers=peers, clock=clock, timeouts=timeouts)
    except TimeoutError as exc:
        message = "Placing the order took too long; send it again with the same Idempotency-Key."
        raise PlaceTimeout(message) from exc


async def _place(
    command: PlaceOrder,
    lines: tuple[RequestedLine, ...],
    *,
    uow: UnitOfWorkFactory,
    peers: OrderPeers,
    clock: Clock,
    timeouts: Timeouts,
) -> Order:
    now = clock()
    fresh = placing_order(command, lines, now=now, deadline=timeouts.placing_deadline)
    order = await find(fresh.id, uow=uow)
    if order is None:
        await peers.ensure_user(command.user_id)
        async with uow() as work:
            stored = await work.orders.add(fresh)
            await work.commit()
        order = fresh if stored else await find(fresh.id, uow=uow)  # else a concurrent repeat stored it first
        if order is None:
            raise OrderBusy("The order keeps changing; try again.")
    if order.user_id != command.user_id or order.request_hash != request_hash(lines, command.payment_token):
        raise IdempotencyKeyReused("This Idempotency-Key already placed a different order.")
    if order.status is not OrderStatus.PLACING:
        return _answer(order)
    return await _complete(order, lines, uow=uow, peers=peers, clock=clock, payment_timeout=timeouts.payment_timeout)


async def _complete(
    order: Order,
    lines: tuple[RequestedLine, ...],
    *,
    uow: UnitOfWorkFactory,
    peers: OrderPeers,
    clock: Clock,
    payment_timeout: timedelta,
) -> Order:
    """Reserve (idempotent per order id) and move PLACING -> PENDING_PAYMENT; answer per the row if it moved."""
    try:
        reservation = await peers.reserve(order.id, lines)
    except JunctionError as refused:
        if is_transient(refused):  # a 5xx, a 429, a lost write race: it says nothing about the order
            raise  # the outcome is unknown: the order stays PLACING for a retry or the reaper
        await close_placing(order, refused.code, uow=uow, clock=clock)
        current = await find(order.id, uow=uow)
        if current is not None and current.status is OrderStatus.FAILED and refused.code != "RESERVATION_RELEASED":
            raise  # catalog's refusal (OUT_OF_STOCK, PRODUCT_NOT_FOUND, ...) reaches the client as it is
        return _answer(current or order)
    placed = order.placed(reservation, now=clock(), payment_timeout=payment_timeout)
    async with uow() as work:
        if await work.orders.complete(placed):
            created = OrderCreated.of(placed)
            await work.record(created.topic, new_event(created.payload()))
            await work.commit()
            return placed
    # A concurrent repeat placed it, or the reaper closed it (its release then covers this reservation).
    return _answer(await find(order.id, uow=uow) or order)


def _answer(order: Order) -> Order:
    """What a repeat of a placement gets: the order, or why there is none."""
    if order.status is OrderStatus.FAILED:
        message = "This order could not be placed; send it again with a new Idempotency-Key."
        raise OrderNotPlaced(message, details={"reason": order.cancel_reason})
    if order.status is OrderStatus.PLACING:
        raise OrderPlacing("The order is still being placed; try again.")
    return order


async def get_order(order_id: str, *, user_id: str, is_admin: bool, uow: UnitOfWorkFactory) -> Order:
    """An order its owner (or an admin) may see; PLACING and FAILED orders do not exist to readers."""
    order = await find(order_id, uow=uow)
    if order is None or not order.visible_to(user_id, is_admin=is_admin):
        raise OrderNotFound("No such order.")  # someone else's order is not revealed to exist
    return order


async def list_orders(
    *, user_id: str | None, limit: int, offset: int, uow: UnitOfWorkFactory
) -> tuple[list[Order], int]:
    async with uow() as work:
        return await work.orders.page(user_id=user_id, limit=limit, offset=offset)


async def cancel_order(command: CancelOrder, *, uow: UnitOfWorkFactory, peers: OrderPeers, clock: Clock) -> Order:
    """Cancel, then release the stock; payments refunds a paid order when it sees `order.cancelled`."""
    reason = "ADMIN_CANCELLED" if command.is_admin else "CUSTOMER_CANCELLED"
    for _ in range(5):  # a payment outcome may move the order meanwhile: look again
        order = await get_order(command.order_id, user_id=command.user_id, is_admin=command.is_admin, uow=uow)
        if order.status not in CANCELLABLE:
            await settle(order.id, uow=uow, peers=peers)  # a repeat also finishes a settlement left due
            return order
        cancelled = order.cancelled(reason, clock())
        async with uow() as work:
            if await work.orders.transition(cancelled, expected=order.status):
                change = OrderCancelled.between(order, cancelled)
                await work.record(change.topic, new_event(change.payload()))
                await work.commit()
                await settle(order.id, uow=uow, peers=peers)
                return cancelled
    raise OrderBusy("The order keeps changing; try again.")


def _order_id(event: EventEnvelope) -> str:
    order_id = event.payload.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise InvalidEvent("The event has no orderId.")
    return order_id


async def apply_payment(
    event: EventEnvelope, *, topic: str, uow: UnitOfWorkFactory, peers: OrderPeers, clock: Clock
) -> bool:
    """Confirm on `payment.succeeded`, cancel on `payment.failed`, then settle; False for a redelivery, which
    changes nothing (but settles, in case the first delivery stopped before it).

    Only a PENDING_PAYMENT order moves: a payment for an order that expired or was cancelled first leaves
    it as it is (payments refunds that charge when it sees `order.expired` / `order.cancelled`).
    """
    order_id, succeeded = _order_id(event), topic == "payment.succeeded"
    async with uow() as work:
        current = await work.orders.get(order_id)
        if current is None:
            raise UnknownOrder(f"Unknown order {order_id}.")
        first = await work.mark_processed(event.event_id, topic, clock())
        if first and current.status is OrderStatus.PENDING_PAYMENT:
            now = clock()
            change: OrderConfirmed | OrderCancelled
            if succeeded:
                moved = current.confirmed(str(event.payload.get("paymentId", "")), now)
                change = OrderConfirmed.of(moved)
            else:
                moved = current.cancelled(str(event.payload.get("reason") or "PAYMENT_FAILED"), now)
                change = OrderCancelled.between(current, moved)
            if await work.orders.transition(moved, expected=OrderStatus.PENDING_PAYMENT):
                await work.record(change.topic, new_event(change.payload()))
        await work.commit()
    await settle(order_id, uow=uow, peers=peers)
    return first


async def expire_overdue(*, batch: int, uow: UnitOfWorkFactory, peers: OrderPeers, clock: Clock) -> dict[str, int]:
    """The expiry tick: reap stuck placements, expire unpaid orders, settle what is due (each batch-bounded)."""
    now = clock()
    reaped = await reap_placing(now, batch, uow=uow)
    async with uow() as work:
        due = await work.orders.overdue(OrderStatus.PENDING_PAYMENT, now, batch)
    expired = 0
    for order in due:
        async with uow() as work:
            moved = order.expired(now)
            if await work.orders.transition(moved, expected=OrderStatus.PENDING_PAYMENT):
                change = OrderExpired.of(moved)
                await work.record(change.topic, new_event(change.payload()))
                expired += 1
            await work.commit()
    return {"expired": expired, "reaped": reaped, "settled": await settle_due(batch, uow=uow, peers=peers)}
