"""Settling reservations to match the order row, and reaping placements that never completed.

A closed order carries `settlement_due` until catalog confirms the matching step: commit for a
CONFIRMED order, release for a CANCELLED, EXPIRED or FAILED one. Both steps are idempotent in catalog
and release is terminal there, so a settlement may run any number of times, from any path, in any order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apps.orders.domain import Order, OrderStatus
from apps.orders.peers import OrderPeers
from apps.orders.storage import UnitOfWork
from servicekit import JunctionError
from servicekit.clock import Clock
from servicekit.errors import is_transient

log = logging.getLogger("apps.orders.settlement")
UnitOfWorkFactory = Callable[[], UnitOfWork]


async def settle(order_id: str, *, uow: UnitOfWorkFactory, peers: OrderPeers) -> bool:
    """Commit or release the order's reservation as its status says; False when catalog must be asked again."""
    async with uow() as work:
        order = await work.orders.get(order_id)
    if order is None or not order.settlement_due:
        return True
    return await _settle(order, uow=uow, peers=peers)


async def _settle(order: Order, *, uow: UnitOfWorkFactory, peers: OrderPeers) -> bool:
    try:
        await (peers.commit if order.keeps_stock else peers.release)(order.id)
    except JunctionError as exc:
        if is_transient(exc):
            log.warning("settling order %s (%s) failed, retried later: %s", order.id, order.status, exc.code)
            return False
        # A refusal cannot turn into a success by asking again (a CONFIRMED order whose reservation was
        # released before this revision, say): stop asking, and leave the discrepancy in the log.
        log.error("catalog refused to settle order %s (%s): %s %s", order.id, order.status, exc.code, exc.message)
    async with uow() as work:
        await work.orders.settled(order.id, order.status)  # only if the status is still the one settled for
        await work.commit()
    return True


async def settle_due(batch: int, *, uow: UnitOfWorkFactory, peers: OrderPeers) -> int:
    """Retry up to `batch` settlements left due (a crash or a failed call); stop at the first unreachable catalog."""
    async with uow() as work:
        due = await work.orders.unsettled(batch)
    settled = 0
    for order in due:
        if not await _settle(order, uow=uow, peers=peers):
            break  # catalog is not answering: the next tick tries again, without hammering it now
        settled += 1
    return settled


async def close_placing(order: Order, reason: str, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
    """Close a PLACING order as FAILED (no event: it was never announced); the tick's settling pass releases it.

    The release is left to the tick so a refusal answers at once, without one more call into a catalog
    that is busy refusing; it still comes, and it fences the id against a reserve from a racing retry.
    """
    async with uow() as work:
        await work.orders.transition(order.failed(reason, clock()), expected=OrderStatus.PLACING)
        await work.commit()


async def reap_placing(now: datetime, batch: int, *, uow: UnitOfWorkFactory) -> int:
    """Close up to `batch` placements older than the placing deadline; their releases follow in `settle_due`."""
    async with uow() as work:
        stuck = await work.orders.overdue(OrderStatus.PLACING, now, batch)
    reaped = 0
    for order in stuck:
        async with uow() as work:
            if await work.orders.transition(order.failed("PLACING_TIMEOUT", now), expected=OrderStatus.PLACING):
                reaped += 1
            await work.commit()
    if reaped:
        log.info("reaped %d placements that never completed", reaped)
    return reaped
