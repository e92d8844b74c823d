"""orders' use cases over the real `SqlUnitOfWork` on a migrated SQLite file, where the database is the point.

The primary key decides a race between repeats of one Idempotency-Key, processed-event markers turn a
redelivery into nothing, the page and tick queries skip internal statuses, and the outbox table holds what
each transaction recorded. Every other use-case test runs on the in-memory `FakeUnitOfWork`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from apps.orders import service
from apps.orders.domain import OrderStatus, PlaceOrder, RequestedLine, order_id_for
from apps.orders.main import MIGRATIONS
from apps.orders.storage import SqlUnitOfWork, UnitOfWork, outbox
from servicekit import Conflict, NotFound, ValidationFailed
from servicekit.migrations import upgrade_to_head
from tests.unit.orders.fakes import Deps
from tests.unit.orders.helpers import declined, order_of, paid, stored

pytestmark = pytest.mark.anyio


@dataclass
class SqlDeps(Deps):
    """The use cases' dependencies with the real unit of work: the peers' stand-in, a clock the test moves."""

    engine: AsyncEngine = field(kw_only=True)

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.engine)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    upgrade_to_head(MIGRATIONS, url)
    return url


@pytest.fixture
def deps(engine: AsyncEngine) -> SqlDeps:
    """This module's `deps`: over the migrated database rather than the in-memory one of the unit tests."""
    return SqlDeps(engine=engine)


async def topics(deps: SqlDeps) -> list[str]:
    """The topics in the outbox table, oldest first."""
    async with deps.engine.connect() as connection:
        return [row.topic for row in (await connection.execute(select(outbox.c.topic).order_by(outbox.c.created_at)))]


async def test_refusals_reach_the_client_unchanged_and_leave_no_visible_order(deps: SqlDeps) -> None:
    with pytest.raises(NotFound) as ghost:
        await service.place_order(order_of(user="ghost"), **deps.ports, timeouts=deps.timeouts)
    assert ghost.value.code == "USER_NOT_FOUND"
    with pytest.raises(Conflict) as short:
        await service.place_order(order_of(quantity=6, key="short"), **deps.ports, timeouts=deps.timeouts)
    assert (short.value.code, short.value.status) == ("OUT_OF_STOCK", 409)
    unknown = PlaceOrder("u1", (RequestedLine("nope", 1),), "tok_ok", "unknown")
    with pytest.raises(NotFound) as missing:
        await service.place_order(unknown, **deps.ports, timeouts=deps.timeouts)
    assert (missing.value.code, missing.value.status) == ("PRODUCT_NOT_FOUND", 404)
    with pytest.raises(ValidationFailed):
        await service.place_order(order_of(quantity=0), **deps.ports, timeouts=deps.timeouts)
    assert deps.peers.stock["p1"] == 5 and await topics(deps) == []
    assert await service.list_orders(user_id="u1", limit=10, offset=0, uow=deps.uow) == ([], 0)
    assert await service.list_orders(user_id=None, limit=10, offset=0, uow=deps.uow) == ([], 0)
    refused = await stored(deps, order_id_for("u1", "short"))
    assert (refused.status, refused.cancel_reason, refused.settlement_due) == (
        OrderStatus.FAILED,
        "OUT_OF_STOCK",
        True,
    )
    assert refused.id not in deps.peers.reservations  # the refusal answered without one more catalog call
    await service.expire_overdue(batch=10, **deps.ports)  # the next tick releases it: a late reserve is refused
    assert deps.peers.reservations[refused.id]["status"] == "RELEASED"
    assert not (await stored(deps, refused.id)).settlement_due
    with pytest.raises(NotFound):
        await service.get_order(refused.id, user_id="u1", is_admin=True, uow=deps.uow)


async def test_concurrent_repeats_of_one_key_place_one_order(deps: SqlDeps) -> None:
    results = await asyncio.gather(
        *(service.place_order(order_of(key="burst"), **deps.ports, timeouts=deps.timeouts) for _ in range(5))
    )
    assert {order.id for order in results} == {order_id_for("u1", "burst")}
    assert deps.peers.stock["p1"] == 3 and await topics(deps) == ["order.created"]


async def test_payment_outcomes_apply_once(deps: SqlDeps) -> None:
    confirmed_order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    declined_order = await service.place_order(order_of(quantity=1), **deps.ports, timeouts=deps.timeouts)
    success, failure = paid(confirmed_order.id), declined(declined_order.id)
    for _ in range(2):  # the second delivery is a redelivery: nothing more happens
        await service.apply_payment(success, topic="payment.succeeded", **deps.ports)
        await service.apply_payment(failure, topic="payment.failed", **deps.ports)
    confirmed = await service.get_order(confirmed_order.id, user_id="u1", is_admin=False, uow=deps.uow)
    cancelled = await service.get_order(declined_order.id, user_id="u1", is_admin=False, uow=deps.uow)
    assert confirmed.status is OrderStatus.CONFIRMED and confirmed.payment_id == "pay1"
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_reason == "INSUFFICIENT_FUNDS"
    assert deps.peers.stock["p1"] == 3  # the declined order's unit came back
    assert deps.peers.reservations[confirmed.id]["status"] == "COMMITTED"
    assert not confirmed.settlement_due and not cancelled.settlement_due
    assert sorted(await topics(deps)) == ["order.cancelled", "order.confirmed", "order.created", "order.created"]
    with pytest.raises(ValidationFailed):
        await service.apply_payment(paid("unknown-order"), topic="payment.succeeded", **deps.ports)
