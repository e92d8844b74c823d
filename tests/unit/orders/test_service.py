"""orders' use cases against a real SQLite database and a catalog stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from apps.orders import service
from apps.orders.domain import CancelOrder, OrderStatus, PlaceOrder, RequestedLine
from apps.orders.storage import outbox
from servicekit import Conflict, EventEnvelope, NotFound, ValidationFailed, new_event
from tests.unit.orders.fakes import Deps, FakePeers, migrated_engine


async def topics(deps: Deps) -> list[str]:
    async with deps.uow_engine.connect() as connection:
        return [row.topic for row in (await connection.execute(select(outbox.c.topic).order_by(outbox.c.created_at)))]


def run(scenario: Coroutine[Any, Any, None], engine: AsyncEngine) -> None:
    async def with_cleanup() -> None:
        try:
            await scenario
        finally:
            await engine.dispose()

    asyncio.run(with_cleanup())


def order_of(user: str = "u1", quantity: int = 2) -> PlaceOrder:
    return PlaceOrder(user, (RequestedLine("p1", quantity),), "tok_ok")


def test_place_order_reserves_stores_and_records_created(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path)

    async def scenario() -> None:
        deps = Deps(engine, FakePeers())
        order = await service.place_order(order_of(quantity=2), deps=deps)
        assert order.status is OrderStatus.PENDING_PAYMENT and str(order.total) == "5.00"
        assert deps.peers.stock["p1"] == 3
        assert await topics(deps) == ["order.created"]
        assert (await service.get_order(order.id, user_id="u1", is_admin=False, deps=deps)).id == order.id
        with pytest.raises(NotFound):
            await service.get_order(order.id, user_id="u2", is_admin=False, deps=deps)

    run(scenario(), engine)


def test_place_order_refusals_write_nothing(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path)

    async def scenario() -> None:
        deps = Deps(engine, FakePeers())
        with pytest.raises(NotFound):
            await service.place_order(order_of(user="ghost"), deps=deps)
        with pytest.raises(Conflict):
            await service.place_order(order_of(quantity=6), deps=deps)
        with pytest.raises(ValidationFailed):
            await service.place_order(order_of(quantity=0), deps=deps)
        assert deps.peers.stock["p1"] == 5 and await topics(deps) == []

    run(scenario(), engine)


def test_payment_outcomes_apply_once(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path)

    async def scenario() -> None:
        deps = Deps(engine, FakePeers())
        paid = await service.place_order(order_of(), deps=deps)
        declined = await service.place_order(order_of(quantity=1), deps=deps)
        success = new_event({"orderId": paid.id, "paymentId": "pay1", "userId": "u1", "amount": 5})
        failure = new_event({"orderId": declined.id, "reason": "INSUFFICIENT_FUNDS", "userId": "u1", "amount": 2.5})
        for _ in range(2):  # the second delivery is a redelivery: nothing more happens
            await service.apply_payment(success, topic="payment.succeeded", deps=deps)
            await service.apply_payment(failure, topic="payment.failed", deps=deps)
        confirmed = await service.get_order(paid.id, user_id="u1", is_admin=False, deps=deps)
        cancelled = await service.get_order(declined.id, user_id="u1", is_admin=False, deps=deps)
        assert confirmed.status is OrderStatus.CONFIRMED and confirmed.payment_id == "pay1"
        assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_reason == "INSUFFICIENT_FUNDS"
        assert deps.peers.stock["p1"] == 3  # the declined order's unit came back
        assert sorted(await topics(deps)) == ["order.cancelled", "order.confirmed", "order.created", "order.created"]
        with pytest.raises(ValidationFailed):
            await service.apply_payment(
                EventEnvelope.model_validate({**success.model_dump(by_alias=True), "eventId": "x", "payload": {}}),
                topic="payment.succeeded",
                deps=deps,
            )

    run(scenario(), engine)


def test_cancel_of_confirmed_order_restores_stock_and_is_idempotent(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path)

    async def scenario() -> None:
        deps = Deps(engine, FakePeers())
        order = await service.place_order(order_of(), deps=deps)
        await service.apply_payment(
            new_event({"orderId": order.id, "paymentId": "p"}), topic="payment.succeeded", deps=deps
        )
        with pytest.raises(NotFound):
            await service.cancel_order(CancelOrder(order.id, "u2", False), deps=deps)
        cancelled = await service.cancel_order(CancelOrder(order.id, "u1", False), deps=deps)
        again = await service.cancel_order(CancelOrder(order.id, "u1", False), deps=deps)
        assert cancelled.status is again.status is OrderStatus.CANCELLED
        assert cancelled.cancel_reason == "CUSTOMER_CANCELLED" and deps.peers.stock["p1"] == 5
        assert (await topics(deps)).count("order.cancelled") == 1

    run(scenario(), engine)


def test_expiry_releases_overdue_orders_only(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path)

    async def scenario() -> None:
        deps = Deps(engine, FakePeers())
        old = await service.place_order(order_of(quantity=1), deps=deps)
        deps.now += timedelta(minutes=10)
        fresh = await service.place_order(order_of(quantity=1), deps=deps)
        deps.now += timedelta(minutes=6)  # `old` is 16 minutes old, `fresh` 6
        assert await service.expire_overdue(batch=10, deps=deps) == 1
        assert await service.expire_overdue(batch=10, deps=deps) == 0
        assert (await service.get_order(old.id, user_id="u1", is_admin=False, deps=deps)).status is OrderStatus.EXPIRED
        still = await service.get_order(fresh.id, user_id="u1", is_admin=False, deps=deps)
        assert still.status is OrderStatus.PENDING_PAYMENT and deps.peers.stock["p1"] == 4

    run(scenario(), engine)


def test_payment_after_release_does_not_confirm(tmp_path: Path) -> None:
    engine = migrated_engine(tmp_path)

    async def scenario() -> None:
        deps = Deps(engine, FakePeers())
        order = await service.place_order(order_of(), deps=deps)
        await deps.peers.release(order.id)  # expiry or a cancel got there first
        await service.apply_payment(
            new_event({"orderId": order.id, "paymentId": "p"}), topic="payment.succeeded", deps=deps
        )
        current = await service.get_order(order.id, user_id="u1", is_admin=False, deps=deps)
        assert current.status is OrderStatus.PENDING_PAYMENT and "order.confirmed" not in await topics(deps)

    run(scenario(), engine)
