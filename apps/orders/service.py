"""orders' use cases: place, read, cancel, apply payment outcomes, expire. Dependencies are keyword arguments."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apps.orders.domain import (
    CANCELLABLE,
    CancelOrder,
    Order,
    OrderNotFound,
    OrderStatus,
    PlaceOrder,
    merge_lines,
    new_order,
)
from apps.orders.peers import OrderPeers
from apps.orders.storage import SqlUnitOfWork
from servicekit import Conflict, EventEnvelope, ValidationFailed, new_event

UnitOfWorkFactory = Callable[[], SqlUnitOfWork]
Clock = Callable[[], datetime]


class Dependencies(Protocol):
    """What the use cases need; `deps.OrdersServices` provides it, unit tests pass fakes."""

    @property
    def uow(self) -> UnitOfWorkFactory: ...
    @property
    def peers(self) -> OrderPeers: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def payment_timeout(self) -> timedelta: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


async def place_order(command: PlaceOrder, *, deps: Dependencies) -> Order:
    """Check the buyer, reserve every line, then store the order and `order.created` together."""
    lines = merge_lines(command.lines)
    await deps.peers.ensure_user(command.user_id)
    order_id = uuid.uuid4().hex
    reservation = await deps.peers.reserve(order_id, lines)
    try:
        order = new_order(order_id, command, reservation, now=deps.clock(), payment_timeout=deps.payment_timeout)
        async with deps.uow() as work:
            await work.orders.add(order)
            await work.record("order.created", new_event(order.created_payload()))
            await work.commit()
    except BaseException:
        with contextlib.suppress(Exception):  # give the stock back; expiry cannot find an order never stored
            await deps.peers.release(order_id)
        raise
    return order


async def get_order(order_id: str, *, user_id: str, is_admin: bool, deps: Dependencies) -> Order:
    async with deps.uow() as work:
        order = await work.orders.get(order_id)
    if order is None or not order.visible_to(user_id, is_admin=is_admin):
        raise OrderNotFound("No such order.")  # someone else's order is not revealed to exist
    return order


async def list_orders(*, user_id: str | None, limit: int, offset: int, deps: Dependencies) -> tuple[list[Order], int]:
    async with deps.uow() as work:
        return await work.orders.page(user_id=user_id, limit=limit, offset=offset)


async def cancel_order(command: CancelOrder, *, deps: Dependencies) -> Order:
    """Release the stock and cancel; payments refunds a paid order when it sees `order.cancelled`."""
    reason = "ADMIN_CANCELLED" if command.is_admin else "CUSTOMER_CANCELLED"
    for _ in range(5):  # a payment outcome may move the order meanwhile: look again
        order = await get_order(command.order_id, user_id=command.user_id, is_admin=command.is_admin, deps=deps)
        if order.status not in CANCELLABLE:
            return order
        await deps.peers.release(order.id)
        cancelled = order.cancelled(reason, deps.clock())
        async with deps.uow() as work:
            if await work.orders.transition(cancelled, expected=order.status):
                payload = {**cancelled.base_payload(), "previousStatus": order.status.value, "reason": reason}
                await work.record("order.cancelled", new_event(payload))
                await work.commit()
                return cancelled
    raise Conflict("The order keeps changing; try again.", code="ORDER_BUSY")


def _order_id(event: EventEnvelope) -> str:
    order_id = event.payload.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise ValidationFailed("The event has no orderId.", code="INVALID_EVENT")
    return order_id


async def apply_payment(event: EventEnvelope, *, topic: str, deps: Dependencies) -> None:
    """Confirm on `payment.succeeded`, cancel on `payment.failed`; a redelivered event changes nothing."""
    order_id, succeeded = _order_id(event), topic == "payment.succeeded"
    async with deps.uow() as work:
        order = await work.orders.get(order_id)
    if order is None:
        raise ValidationFailed(f"Unknown order {order_id}.", code="UNKNOWN_ORDER")
    reservation_held = True
    if order.status is OrderStatus.PENDING_PAYMENT:
        try:
            await (deps.peers.commit if succeeded else deps.peers.release)(order_id)
        except Conflict:  # released meanwhile (expiry or cancel): that path finishes the order
            reservation_held = False
    async with deps.uow() as work:
        if not await work.mark_processed(event.event_id, topic, deps.clock()):
            return
        current = await work.orders.get(order_id)
        if current is not None and current.status is OrderStatus.PENDING_PAYMENT and reservation_held:
            now = deps.clock()
            if succeeded:
                moved = current.confirmed(str(event.payload.get("paymentId", "")), now)
                payload = {**moved.base_payload(), "paymentId": moved.payment_id}
            else:
                moved = current.cancelled(str(event.payload.get("reason") or "PAYMENT_FAILED"), now)
                payload = {
                    **moved.base_payload(),
                    "previousStatus": current.status.value,
                    "reason": moved.cancel_reason,
                }
            if await work.orders.transition(moved, expected=OrderStatus.PENDING_PAYMENT):
                await work.record("order.confirmed" if succeeded else "order.cancelled", new_event(payload))
        await work.commit()


async def expire_overdue(*, batch: int, deps: Dependencies) -> int:
    """Expire unpaid orders past their deadline, giving their stock back; returns how many expired."""
    now = deps.clock()
    async with deps.uow() as work:
        due = await work.orders.overdue(now, batch)
    expired = 0
    for order in due:
        await deps.peers.release(order.id)
        async with deps.uow() as work:
            if await work.orders.transition(order.expired(now), expected=OrderStatus.PENDING_PAYMENT):
                await work.record("order.expired", new_event(order.base_payload()))
                expired += 1
            await work.commit()
    return expired
