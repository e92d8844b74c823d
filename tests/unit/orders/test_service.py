"""orders' use cases against a real SQLite database and a catalog stand-in: placing, idempotency, reads."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from apps.orders import service
from apps.orders.domain import (
    CancelOrder,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    OrderNotPlaced,
    OrderStatus,
    PlaceOrder,
    RequestedLine,
    check_idempotency_key,
    order_id_for,
)
from servicekit import Conflict, DependencyUnavailable, NotFound, ValidationFailed
from tests.unit.orders._support import declined, order_of, paid, run, stored, topics
from tests.unit.orders.fakes import Deps


def test_place_order_reserves_stores_and_records_created(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        order = await service.place_order(order_of(quantity=2, key="k-1"), deps=deps)
        assert order.id == order_id_for("u1", "k-1")
        assert order.status is OrderStatus.PENDING_PAYMENT and str(order.total) == "5.00"
        assert [(x.name, float(x.unit_price), x.quantity) for x in order.lines] == [("Widget", 2.5, 2)]
        assert order.expires_at == deps.now + deps.payment_timeout
        assert deps.peers.stock["p1"] == 3
        assert await topics(deps) == ["order.created"]
        row = await stored(deps, order.id)
        assert (row.status, row.total, row.lines, row.settlement_due) == (order.status, order.total, order.lines, False)
        assert (await service.get_order(order.id, user_id="u1", is_admin=False, deps=deps)).id == order.id
        with pytest.raises(NotFound):
            await service.get_order(order.id, user_id="u2", is_admin=False, deps=deps)

    run(tmp_path, scenario)


def test_the_order_is_recorded_as_placing_before_catalog_reserves(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        seen: list[OrderStatus] = []

        async def look(order_id: str) -> None:
            seen.append((await stored(deps, order_id)).status)

        deps.peers.hooks["reserve"] = look
        await service.place_order(order_of(), deps=deps)
        assert seen == [OrderStatus.PLACING]

    run(tmp_path, scenario)


def test_refusals_reach_the_client_unchanged_and_leave_no_visible_order(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        with pytest.raises(NotFound) as ghost:
            await service.place_order(order_of(user="ghost"), deps=deps)
        assert ghost.value.code == "USER_NOT_FOUND"
        with pytest.raises(Conflict) as short:
            await service.place_order(order_of(quantity=6, key="short"), deps=deps)
        assert (short.value.code, short.value.status) == ("OUT_OF_STOCK", 409)
        unknown = PlaceOrder("u1", (RequestedLine("nope", 1),), "tok_ok", "unknown")
        with pytest.raises(NotFound) as missing:
            await service.place_order(unknown, deps=deps)
        assert (missing.value.code, missing.value.status) == ("PRODUCT_NOT_FOUND", 404)
        with pytest.raises(ValidationFailed):
            await service.place_order(order_of(quantity=0), deps=deps)
        assert deps.peers.stock["p1"] == 5 and await topics(deps) == []
        assert await service.list_orders(user_id="u1", limit=10, offset=0, deps=deps) == ([], 0)
        assert await service.list_orders(user_id=None, limit=10, offset=0, deps=deps) == ([], 0)
        refused = await stored(deps, order_id_for("u1", "short"))
        assert (refused.status, refused.cancel_reason, refused.settlement_due) == (
            OrderStatus.FAILED,
            "OUT_OF_STOCK",
            True,
        )
        assert refused.id not in deps.peers.reservations  # the refusal answered without one more catalog call
        await service.expire_overdue(batch=10, deps=deps)  # the next tick releases it: a late reserve is refused
        assert deps.peers.reservations[refused.id]["status"] == "RELEASED"
        assert not (await stored(deps, refused.id)).settlement_due
        with pytest.raises(NotFound):
            await service.get_order(refused.id, user_id="u1", is_admin=True, deps=deps)

    run(tmp_path, scenario)


def test_a_repeated_key_answers_the_same_order_once(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        first = await service.place_order(order_of(key="again"), deps=deps)
        deps.now += timedelta(seconds=5)
        second = await service.place_order(order_of(key="again"), deps=deps)
        assert (second.id, second.status, second.total, second.lines) == (
            first.id,
            first.status,
            first.total,
            first.lines,
        )
        assert deps.peers.stock["p1"] == 3 and await topics(deps) == ["order.created"]
        assert deps.peers.calls.count(("reserve", first.id)) == 1
        paid_first = await service.place_order(order_of(key="again"), deps=deps)
        assert paid_first.id == first.id

    run(tmp_path, scenario)


def test_concurrent_repeats_of_one_key_place_one_order(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        results = await asyncio.gather(*(service.place_order(order_of(key="burst"), deps=deps) for _ in range(5)))
        assert {order.id for order in results} == {order_id_for("u1", "burst")}
        assert deps.peers.stock["p1"] == 3 and await topics(deps) == ["order.created"]

    run(tmp_path, scenario)


def test_keys_are_scoped_per_customer(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        mine = await service.place_order(order_of(user="u1", key="shared"), deps=deps)
        theirs = await service.place_order(order_of(user="u2", key="shared"), deps=deps)
        assert mine.id != theirs.id and (mine.user_id, theirs.user_id) == ("u1", "u2")
        assert deps.peers.stock["p1"] == 1

    run(tmp_path, scenario)


def test_a_key_reused_with_another_body_is_refused(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        two = PlaceOrder("u1", (RequestedLine("p1", 1), RequestedLine("p2", 1)), "tok_ok", "body")
        await service.place_order(two, deps=deps)
        swapped = PlaceOrder("u1", (RequestedLine("p2", 1), RequestedLine("p1", 1)), "tok_ok", "body")
        assert (await service.place_order(swapped, deps=deps)).id == order_id_for("u1", "body")  # same body
        for other in (
            PlaceOrder("u1", (RequestedLine("p1", 2), RequestedLine("p2", 1)), "tok_ok", "body"),
            PlaceOrder("u1", (RequestedLine("p1", 1), RequestedLine("p2", 1)), "tok_decline", "body"),
        ):
            with pytest.raises(IdempotencyKeyReused) as caught:
                await service.place_order(other, deps=deps)
            assert (caught.value.code, caught.value.status) == ("IDEMPOTENCY_KEY_REUSED", 422)
        assert (deps.peers.stock["p1"], deps.peers.stock["p2"]) == (4, 4)

    run(tmp_path, scenario)


def test_a_refused_key_stays_refused(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        with pytest.raises(Conflict):
            await service.place_order(order_of(quantity=6, key="too-many"), deps=deps)
        deps.peers.stock["p1"] = 50
        with pytest.raises(OrderNotPlaced) as caught:
            await service.place_order(order_of(quantity=6, key="too-many"), deps=deps)
        assert (caught.value.status, caught.value.details) == (409, {"reason": "OUT_OF_STOCK"})
        assert deps.peers.stock["p1"] == 50

    run(tmp_path, scenario)


def test_a_lost_answer_from_catalog_leaves_a_placing_order_the_same_key_completes(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        deps.peers.lost_answers.add("reserve")
        with pytest.raises(DependencyUnavailable):
            await service.place_order(order_of(key="lost"), deps=deps)
        order_id = order_id_for("u1", "lost")
        assert (await stored(deps, order_id)).status is OrderStatus.PLACING
        assert deps.peers.stock["p1"] == 3  # catalog did apply it
        with pytest.raises(NotFound):
            await service.get_order(order_id, user_id="u1", is_admin=False, deps=deps)
        assert await service.list_orders(user_id="u1", limit=10, offset=0, deps=deps) == ([], 0)
        deps.peers.lost_answers.clear()
        retried = await service.place_order(order_of(key="lost"), deps=deps)
        assert (retried.id, retried.status) == (order_id, OrderStatus.PENDING_PAYMENT)
        assert deps.peers.stock["p1"] == 3 and await topics(deps) == ["order.created"]

    run(tmp_path, scenario)


def test_placing_gives_up_after_its_budget_and_stays_placing(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        async def hang(_: str) -> None:
            await asyncio.sleep(30)

        deps.peers.hooks["reserve"] = hang
        deps.place_budget = timedelta(seconds=1)
        with pytest.raises(DependencyUnavailable) as caught:
            await service.place_order(order_of(key="slow"), deps=deps)
        assert (caught.value.code, caught.value.status) == ("PLACE_TIMEOUT", 503)
        assert (await stored(deps, order_id_for("u1", "slow"))).status is OrderStatus.PLACING

    run(tmp_path, scenario)


@pytest.mark.parametrize("key", ["k", "x" * 128, "order 2026-12-01 #7 ~!", "Ab0-_.:/"])
def test_valid_idempotency_keys(key: str) -> None:
    assert check_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 129, "tab\there", "é", "new\nline", "\x7f"])
def test_invalid_idempotency_keys(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        check_idempotency_key(key)


def test_order_ids_from_keys_are_stable_and_never_shared() -> None:
    assert order_id_for("u1", "k") == order_id_for("u1", "k")
    assert len({order_id_for("u1", "k"), order_id_for("u2", "k"), order_id_for("u1", "k2")}) == 3
    assert order_id_for("ab", "c") != order_id_for("a", "bc")
    assert len(order_id_for("u1", "k")) == 32 and order_id_for("u1", "k").isalnum()


def test_payment_outcomes_apply_once(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        confirmed_order = await service.place_order(order_of(), deps=deps)
        declined_order = await service.place_order(order_of(quantity=1), deps=deps)
        success, failure = paid(confirmed_order.id), declined(declined_order.id)
        for _ in range(2):  # the second delivery is a redelivery: nothing more happens
            await service.apply_payment(success, topic="payment.succeeded", deps=deps)
            await service.apply_payment(failure, topic="payment.failed", deps=deps)
        confirmed = await service.get_order(confirmed_order.id, user_id="u1", is_admin=False, deps=deps)
        cancelled = await service.get_order(declined_order.id, user_id="u1", is_admin=False, deps=deps)
        assert confirmed.status is OrderStatus.CONFIRMED and confirmed.payment_id == "pay1"
        assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_reason == "INSUFFICIENT_FUNDS"
        assert deps.peers.stock["p1"] == 3  # the declined order's unit came back
        assert deps.peers.reservations[confirmed.id]["status"] == "COMMITTED"
        assert not confirmed.settlement_due and not cancelled.settlement_due
        assert sorted(await topics(deps)) == ["order.cancelled", "order.confirmed", "order.created", "order.created"]
        with pytest.raises(ValidationFailed):
            await service.apply_payment(paid("unknown-order"), topic="payment.succeeded", deps=deps)

    run(tmp_path, scenario)


def test_cancel_of_confirmed_order_restores_stock_and_is_idempotent(tmp_path: Path) -> None:
    async def scenario(deps: Deps) -> None:
        order = await service.place_order(order_of(), deps=deps)
        await service.apply_payment(paid(order.id), topic="payment.succeeded", deps=deps)
        with pytest.raises(NotFound):
            await service.cancel_order(CancelOrder(order.id, "u2", False), deps=deps)
        cancelled = await service.cancel_order(CancelOrder(order.id, "u1", False), deps=deps)
        again = await service.cancel_order(CancelOrder(order.id, "u1", False), deps=deps)
        assert cancelled.status is again.status is OrderStatus.CANCELLED
        assert cancelled.cancel_reason == "CUSTOMER_CANCELLED" and deps.peers.stock["p1"] == 5
        assert (await topics(deps)).count("order.cancelled") == 1

    run(tmp_path, scenario)
