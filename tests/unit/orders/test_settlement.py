"""The order row decides, catalog follows: expiry and payments racing, settlements retried, placements reaped."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from apps.orders import service
from apps.orders.domain import CancelOrder, OrderStatus, order_id_for
from apps.orders.errors import OrderNotPlaced
from servicekit import DependencyUnavailable
from tests.unit.orders.fakes import Deps
from tests.unit.orders.helpers import declined, order_of, paid, stored, topics

pytestmark = pytest.mark.anyio


def overdue(deps: Deps) -> None:
    deps.now += deps.timeouts.payment_timeout + timedelta(seconds=1)


async def test_expiry_releases_overdue_orders_only(deps: Deps) -> None:
    old = await service.place_order(order_of(quantity=1), **deps.ports, timeouts=deps.timeouts)
    deps.now += timedelta(minutes=10)
    fresh = await service.place_order(order_of(quantity=1), **deps.ports, timeouts=deps.timeouts)
    deps.now += timedelta(minutes=6)  # `old` is 16 minutes old, `fresh` 6
    assert await service.expire_overdue(batch=10, **deps.ports) == {"expired": 1, "reaped": 0, "settled": 1}
    assert await service.expire_overdue(batch=10, **deps.ports) == {"expired": 0, "reaped": 0, "settled": 0}
    assert (await service.get_order(old.id, user_id="u1", is_admin=False, uow=deps.uow)).status is OrderStatus.EXPIRED
    still = await service.get_order(fresh.id, user_id="u1", is_admin=False, uow=deps.uow)
    assert still.status is OrderStatus.PENDING_PAYMENT and deps.peers.stock["p1"] == 4
    assert (await topics(deps)).count("order.expired") == 1


async def test_a_payment_confirming_during_the_expiry_release_leaves_the_order_expired(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    overdue(deps)

    async def payment_lands(order_id: str) -> None:
        await service.apply_payment(paid(order_id), topic="payment.succeeded", **deps.ports)

    deps.peers.hooks["release"] = payment_lands
    await service.expire_overdue(batch=10, **deps.ports)
    row = await stored(deps, order.id)
    assert (row.status, row.settlement_due) == (OrderStatus.EXPIRED, False)
    assert deps.peers.stock["p1"] == 5 and deps.peers.reservations[order.id]["status"] == "RELEASED"
    assert "order.confirmed" not in await topics(deps)
    assert (await topics(deps)).count("order.expired") == 1  # payments refunds the charge on seeing it


async def test_an_expiry_tick_during_the_payment_commit_leaves_the_order_confirmed(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)

    async def tick_lands(_: str) -> None:
        overdue(deps)
        await service.expire_overdue(batch=10, **deps.ports)

    deps.peers.hooks["commit"] = tick_lands
    await service.apply_payment(paid(order.id), topic="payment.succeeded", **deps.ports)
    row = await stored(deps, order.id)
    assert (row.status, row.settlement_due) == (OrderStatus.CONFIRMED, False)
    assert deps.peers.stock["p1"] == 3 and deps.peers.reservations[order.id]["status"] == "COMMITTED"
    assert "order.expired" not in await topics(deps)


@pytest.mark.parametrize("topic", ["payment.succeeded", "payment.failed"])
async def test_a_payment_for_an_expired_or_cancelled_order_changes_nothing(deps: Deps, topic: str) -> None:
    expired = await service.place_order(order_of(quantity=1), **deps.ports, timeouts=deps.timeouts)
    overdue(deps)
    await service.expire_overdue(batch=10, **deps.ports)
    cancelled = await service.place_order(order_of(quantity=1), **deps.ports, timeouts=deps.timeouts)
    await service.cancel_order(CancelOrder(cancelled.id, "u1", False), **deps.ports)
    for order in (expired, cancelled):
        event = paid(order.id) if topic == "payment.succeeded" else declined(order.id)
        await service.apply_payment(event, topic=topic, **deps.ports)
    assert (await stored(deps, expired.id)).status is OrderStatus.EXPIRED
    assert (await stored(deps, cancelled.id)).status is OrderStatus.CANCELLED
    assert (await stored(deps, cancelled.id)).cancel_reason == "CUSTOMER_CANCELLED"
    assert deps.peers.stock["p1"] == 5
    published = await topics(deps)
    assert (published.count("order.expired"), published.count("order.cancelled")) == (1, 1)
    assert "order.confirmed" not in published


async def test_a_failed_commit_is_retried_by_the_tick(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    deps.peers.down.add("commit")
    await service.apply_payment(paid(order.id), topic="payment.succeeded", **deps.ports)
    row = await stored(deps, order.id)
    assert (row.status, row.settlement_due) == (OrderStatus.CONFIRMED, True)
    assert (await service.expire_overdue(batch=10, **deps.ports))["settled"] == 0
    deps.peers.down.clear()
    assert (await service.expire_overdue(batch=10, **deps.ports))["settled"] == 1
    assert deps.peers.reservations[order.id]["status"] == "COMMITTED"
    assert not (await stored(deps, order.id)).settlement_due


async def test_expiry_does_not_wait_for_catalog_and_releases_once_it_answers(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    overdue(deps)
    deps.peers.down.add("release")
    assert (await service.expire_overdue(batch=10, **deps.ports))["expired"] == 1
    assert (await stored(deps, order.id)).status is OrderStatus.EXPIRED and deps.peers.stock["p1"] == 3
    # A payment arriving now must not un-expire it, whatever catalog says.
    await service.apply_payment(paid(order.id), topic="payment.succeeded", **deps.ports)
    deps.peers.down.clear()
    await service.expire_overdue(batch=10, **deps.ports)
    assert deps.peers.stock["p1"] == 5 and (await stored(deps, order.id)).status is OrderStatus.EXPIRED


async def test_a_crash_between_the_cancel_and_the_release_is_repaired_by_the_tick(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)

    async def crash(_: str) -> None:
        raise SystemExit("orders died here")

    deps.peers.hooks["release"] = crash
    with pytest.raises(SystemExit):
        await service.cancel_order(CancelOrder(order.id, "u1", False), **deps.ports)
    row = await stored(deps, order.id)
    assert (row.status, row.settlement_due, deps.peers.stock["p1"]) == (OrderStatus.CANCELLED, True, 3)
    assert (await service.expire_overdue(batch=10, **deps.ports))["settled"] == 1
    assert deps.peers.stock["p1"] == 5 and (await topics(deps)).count("order.cancelled") == 1


async def test_a_cancel_while_catalog_is_down_answers_cancelled_and_releases_later(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    deps.peers.down.add("release")
    cancelled = await service.cancel_order(CancelOrder(order.id, "u1", False), **deps.ports)
    assert cancelled.status is OrderStatus.CANCELLED and deps.peers.stock["p1"] == 3
    deps.peers.down.clear()
    again = await service.cancel_order(CancelOrder(order.id, "u1", False), **deps.ports)  # a repeat settles too
    assert again.status is OrderStatus.CANCELLED and deps.peers.stock["p1"] == 5
    assert (await topics(deps)).count("order.cancelled") == 1


async def test_the_settling_pass_is_bounded_and_stops_while_catalog_is_down(deps: Deps) -> None:
    orders = [await service.place_order(order_of(quantity=1), **deps.ports, timeouts=deps.timeouts) for _ in range(3)]
    deps.peers.down.add("release")
    for order in orders:
        await service.cancel_order(CancelOrder(order.id, "u1", False), **deps.ports)
    before = len(deps.peers.calls)
    assert (await service.expire_overdue(batch=10, **deps.ports))["settled"] == 0
    assert len(deps.peers.calls) == before + 1  # one refused call, then it waits for the next tick
    deps.peers.down.clear()
    assert (await service.expire_overdue(batch=2, **deps.ports))["settled"] == 2
    assert (await service.expire_overdue(batch=2, **deps.ports))["settled"] == 1
    assert deps.peers.stock["p1"] == 5


async def test_a_settlement_catalog_refuses_is_logged_and_not_retried_forever(
    deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    deps.peers.reservations[order.id]["status"] = "RELEASED"  # broken by hand: commit can never succeed
    with caplog.at_level(logging.ERROR, logger="apps.orders.settlement"):
        await service.apply_payment(paid(order.id), topic="payment.succeeded", **deps.ports)
    assert "RESERVATION_RELEASED" in caplog.text
    assert not (await stored(deps, order.id)).settlement_due


async def test_a_placement_that_died_after_reserving_is_reaped_after_its_deadline(deps: Deps) -> None:
    deps.peers.lost_answers.add("reserve")
    with pytest.raises(DependencyUnavailable):
        await service.place_order(order_of(key="died"), **deps.ports, timeouts=deps.timeouts)
    deps.peers.lost_answers.clear()
    order_id = order_id_for("u1", "died")
    assert deps.peers.stock["p1"] == 3
    deps.now += deps.timeouts.placing_deadline - timedelta(seconds=1)
    assert (await service.expire_overdue(batch=10, **deps.ports))["reaped"] == 0  # still allowed to run
    deps.now += timedelta(seconds=2)
    assert await service.expire_overdue(batch=10, **deps.ports) == {"expired": 0, "reaped": 1, "settled": 1}
    row = await stored(deps, order_id)
    assert (row.status, row.cancel_reason, row.settlement_due) == (OrderStatus.FAILED, "PLACING_TIMEOUT", False)
    assert deps.peers.stock["p1"] == 5 and deps.peers.held() == 0
    assert await topics(deps) == []  # never announced, so nothing to take back
    with pytest.raises(OrderNotPlaced):  # the same key now says so; a new key places a new order
        await service.place_order(order_of(key="died"), **deps.ports, timeouts=deps.timeouts)


async def test_a_reserve_arriving_after_the_reaper_is_refused_and_nothing_leaks(deps: Deps) -> None:
    deps.peers.down.add("reserve")  # the reserve is still on its way when orders gives up
    with pytest.raises(DependencyUnavailable):
        await service.place_order(order_of(key="late"), **deps.ports, timeouts=deps.timeouts)
    deps.peers.down.clear()
    deps.now += deps.timeouts.placing_deadline + timedelta(seconds=1)
    await service.expire_overdue(batch=10, **deps.ports)  # releases an order that never reserved
    order_id = order_id_for("u1", "late")
    assert deps.peers.reservations[order_id]["status"] == "RELEASED"
    with pytest.raises(OrderNotPlaced):  # the late attempt: catalog refuses, the order stays closed
        await service.place_order(order_of(key="late"), **deps.ports, timeouts=deps.timeouts)
    assert deps.peers.stock["p1"] == 5 and deps.peers.held() == 0


async def test_a_placement_completing_while_the_reaper_closes_it_releases_its_units(deps: Deps) -> None:
    async def reaper_lands(_: str) -> None:
        deps.now += deps.timeouts.placing_deadline + timedelta(seconds=1)
        await service.expire_overdue(batch=10, **deps.ports)

    deps.peers.hooks["reserve"] = reaper_lands  # the reaper runs just before catalog applies the reserve
    with pytest.raises(OrderNotPlaced):
        await service.place_order(order_of(key="raced"), **deps.ports, timeouts=deps.timeouts)
    assert deps.peers.stock["p1"] == 5 and deps.peers.held() == 0 and await topics(deps) == []


async def test_the_reaper_is_bounded_per_tick(deps: Deps) -> None:
    deps.peers.down.add("reserve")
    for i in range(3):
        with pytest.raises(DependencyUnavailable):
            await service.place_order(order_of(key=f"stuck-{i}", quantity=1), **deps.ports, timeouts=deps.timeouts)
    deps.peers.down.clear()
    deps.now += deps.timeouts.placing_deadline + timedelta(seconds=1)
    assert (await service.expire_overdue(batch=2, **deps.ports))["reaped"] == 2
    assert (await service.expire_overdue(batch=2, **deps.ports))["reaped"] == 1
    statuses = {(await stored(deps, order_id_for("u1", f"stuck-{i}"))).status for i in range(3)}
    assert statuses == {OrderStatus.FAILED}
