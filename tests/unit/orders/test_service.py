"""orders' use cases against an in-memory unit of work and a catalog stand-in: placing, idempotency, reads."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from apps.orders import service
from apps.orders.domain import (
    CancelOrder,
    OrderStatus,
    PlaceOrder,
    RequestedLine,
    check_idempotency_key,
    order_id_for,
)
from apps.orders.errors import IdempotencyKeyReused, InvalidIdempotencyKey, OrderNotPlaced
from servicekit import Conflict, DependencyUnavailable, NotFound
from tests.unit.orders.fakes import Deps
from tests.unit.orders.helpers import order_of, paid, stored, topics

pytestmark = pytest.mark.anyio


async def test_place_order_reserves_stores_and_records_created(deps: Deps) -> None:
    order = await service.place_order(order_of(quantity=2, key="k-1"), **deps.ports, timeouts=deps.timeouts)
    assert order.id == order_id_for("u1", "k-1")
    assert order.status is OrderStatus.PENDING_PAYMENT and str(order.total) == "5.00"
    assert [(x.name, float(x.unit_price), x.quantity) for x in order.lines] == [("Widget", 2.5, 2)]
    assert order.expires_at == deps.now + deps.timeouts.payment_timeout
    assert deps.peers.stock["p1"] == 3
    assert await topics(deps) == ["order.created"]
    row = await stored(deps, order.id)
    assert (row.status, row.total, row.lines, row.settlement_due) == (order.status, order.total, order.lines, False)
    assert (await service.get_order(order.id, user_id="u1", is_admin=False, uow=deps.uow)).id == order.id
    with pytest.raises(NotFound):
        await service.get_order(order.id, user_id="u2", is_admin=False, uow=deps.uow)


async def test_the_order_is_recorded_as_placing_before_catalog_reserves(deps: Deps) -> None:
    seen: list[OrderStatus] = []

    async def look(order_id: str) -> None:
        seen.append((await stored(deps, order_id)).status)

    deps.peers.hooks["reserve"] = look
    await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    assert seen == [OrderStatus.PLACING]


async def test_a_repeated_key_answers_the_same_order_once(deps: Deps) -> None:
    first = await service.place_order(order_of(key="again"), **deps.ports, timeouts=deps.timeouts)
    deps.now += timedelta(seconds=5)
    second = await service.place_order(order_of(key="again"), **deps.ports, timeouts=deps.timeouts)
    assert (second.id, second.status, second.total, second.lines) == (
        first.id,
        first.status,
        first.total,
        first.lines,
    )
    assert deps.peers.stock["p1"] == 3 and await topics(deps) == ["order.created"]
    assert deps.peers.calls.count(("reserve", first.id)) == 1
    paid_first = await service.place_order(order_of(key="again"), **deps.ports, timeouts=deps.timeouts)
    assert paid_first.id == first.id


async def test_keys_are_scoped_per_customer(deps: Deps) -> None:
    mine = await service.place_order(order_of(user="u1", key="shared"), **deps.ports, timeouts=deps.timeouts)
    theirs = await service.place_order(order_of(user="u2", key="shared"), **deps.ports, timeouts=deps.timeouts)
    assert mine.id != theirs.id and (mine.user_id, theirs.user_id) == ("u1", "u2")
    assert deps.peers.stock["p1"] == 1


async def test_a_key_reused_with_another_body_is_refused(deps: Deps) -> None:
    two = PlaceOrder("u1", (RequestedLine("p1", 1), RequestedLine("p2", 1)), "tok_ok", "body")
    await service.place_order(two, **deps.ports, timeouts=deps.timeouts)
    swapped = PlaceOrder("u1", (RequestedLine("p2", 1), RequestedLine("p1", 1)), "tok_ok", "body")
    same_body = await service.place_order(swapped, **deps.ports, timeouts=deps.timeouts)
    assert same_body.id == order_id_for("u1", "body")
    for other in (
        PlaceOrder("u1", (RequestedLine("p1", 2), RequestedLine("p2", 1)), "tok_ok", "body"),
        PlaceOrder("u1", (RequestedLine("p1", 1), RequestedLine("p2", 1)), "tok_decline", "body"),
    ):
        with pytest.raises(IdempotencyKeyReused) as caught:
            await service.place_order(other, **deps.ports, timeouts=deps.timeouts)
        assert (caught.value.code, caught.value.status) == ("IDEMPOTENCY_KEY_REUSED", 422)
    assert (deps.peers.stock["p1"], deps.peers.stock["p2"]) == (4, 4)


async def test_a_refused_key_stays_refused(deps: Deps) -> None:
    with pytest.raises(Conflict):
        await service.place_order(order_of(quantity=6, key="too-many"), **deps.ports, timeouts=deps.timeouts)
    deps.peers.stock["p1"] = 50
    with pytest.raises(OrderNotPlaced) as caught:
        await service.place_order(order_of(quantity=6, key="too-many"), **deps.ports, timeouts=deps.timeouts)
    assert (caught.value.status, caught.value.details) == (409, {"reason": "OUT_OF_STOCK"})
    assert deps.peers.stock["p1"] == 50


async def test_a_lost_answer_from_catalog_leaves_a_placing_order_the_same_key_completes(deps: Deps) -> None:
    deps.peers.lost_answers.add("reserve")
    with pytest.raises(DependencyUnavailable):
        await service.place_order(order_of(key="lost"), **deps.ports, timeouts=deps.timeouts)
    order_id = order_id_for("u1", "lost")
    assert (await stored(deps, order_id)).status is OrderStatus.PLACING
    assert deps.peers.stock["p1"] == 3  # catalog did apply it
    with pytest.raises(NotFound):
        await service.get_order(order_id, user_id="u1", is_admin=False, uow=deps.uow)
    assert await service.list_orders(user_id="u1", limit=10, offset=0, uow=deps.uow) == ([], 0)
    deps.peers.lost_answers.clear()
    retried = await service.place_order(order_of(key="lost"), **deps.ports, timeouts=deps.timeouts)
    assert (retried.id, retried.status) == (order_id, OrderStatus.PENDING_PAYMENT)
    assert deps.peers.stock["p1"] == 3 and await topics(deps) == ["order.created"]


async def test_placing_gives_up_after_its_budget_and_stays_placing(deps: Deps) -> None:
    async def hang(_: str) -> None:
        await asyncio.sleep(30)

    deps.peers.hooks["reserve"] = hang
    deps.timeouts = replace(deps.timeouts, place_budget=timedelta(seconds=1))
    with pytest.raises(DependencyUnavailable) as caught:
        await service.place_order(order_of(key="slow"), **deps.ports, timeouts=deps.timeouts)
    assert (caught.value.code, caught.value.status) == ("PLACE_TIMEOUT", 503)
    assert (await stored(deps, order_id_for("u1", "slow"))).status is OrderStatus.PLACING


@pytest.mark.parametrize("key", ["k", "x" * 128, "order 2026-12-01 #7 ~!", "Ab0-_.:/"])
def test_valid_idempotency_keys(key: str) -> None:
    assert check_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 129, "tab\there", "é", "new\nline", "end\n", "\x7f"])
def test_invalid_idempotency_keys(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        check_idempotency_key(key)


def test_order_ids_from_keys_are_stable_and_never_shared() -> None:
    assert order_id_for("u1", "k") == order_id_for("u1", "k")
    assert len({order_id_for("u1", "k"), order_id_for("u2", "k"), order_id_for("u1", "k2")}) == 3
    assert order_id_for("ab", "c") != order_id_for("a", "bc")
    assert len(order_id_for("u1", "k")) == 32 and order_id_for("u1", "k").isalnum()


async def test_cancel_of_confirmed_order_restores_stock_and_is_idempotent(deps: Deps) -> None:
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    await service.apply_payment(paid(order.id), topic="payment.succeeded", **deps.ports)
    with pytest.raises(NotFound):
        await service.cancel_order(CancelOrder(order.id, "u2", False), **deps.ports)
    cancelled = await service.cancel_order(CancelOrder(order.id, "u1", False), **deps.ports)
    again = await service.cancel_order(CancelOrder(order.id, "u1", False), **deps.ports)
    assert cancelled.status is again.status is OrderStatus.CANCELLED
    assert cancelled.cancel_reason == "CUSTOMER_CANCELLED" and deps.peers.stock["p1"] == 5
    assert (await topics(deps)).count("order.cancelled") == 1


async def test_a_redelivered_payment_is_a_duplicate_that_changes_nothing(deps: Deps) -> None:
    """False tells the consumer the delivery was a duplicate (counted in the metrics)."""
    order = await service.place_order(order_of(), **deps.ports, timeouts=deps.timeouts)
    event = paid(order.id)
    assert await service.apply_payment(event, topic="payment.succeeded", **deps.ports) is True
    assert await service.apply_payment(event, topic="payment.succeeded", **deps.ports) is False
    assert (await topics(deps)).count("order.confirmed") == 1
