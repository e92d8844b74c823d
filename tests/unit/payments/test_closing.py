"""order.cancelled and order.expired: refund what was captured, void what was not, touch nothing settled."""

from __future__ import annotations

from typing import Any

import pytest

from apps.payments.events import consumer
from servicekit import Delivery
from tests.unit.fakes import FakeSidecar
from tests.unit.payments.helpers import (
    cloud_event,
    money_taken,
    new_order_id,
    order_cancelled,
    order_created,
    services_on,
    staged,
    stored,
)

pytestmark = pytest.mark.anyio


async def deliver(sidecar: FakeSidecar, topic: str, payload: dict[str, Any]) -> Delivery:
    return await consumer.deliver(topic, cloud_event(topic, payload), services_on(sidecar))


def expired(order_id: str) -> dict[str, Any]:
    return {"orderId": order_id, "userId": "u-1", "total": 42.5}


async def test_cancel_of_a_paid_order_refunds_without_new_event(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    await deliver(sidecar, "order.created", order_created(order_id))
    paid = stored(sidecar, order_id)
    assert await deliver(sidecar, "order.cancelled", order_cancelled(order_id)) is Delivery.SUCCESS
    refunded = stored(sidecar, order_id)
    assert paid is not None and refunded is not None
    assert (refunded["status"], refunded["reason"]) == ("REFUNDED", "CUSTOMER_CANCELLED")
    assert (refunded["id"], refunded["amount"], refunded["createdAt"]) == (
        paid["id"],
        paid["amount"],
        paid["createdAt"],
    )
    assert [topic for topic, _ in staged(sidecar)] == ["payment.succeeded"]
    assert await deliver(sidecar, "order.cancelled", order_cancelled(order_id)) is Delivery.SUCCESS
    assert stored(sidecar, order_id) == refunded
    assert money_taken(sidecar, order_id) == (1, 1)  # refunded once, however often the close arrives


async def test_cancel_before_create_voids_so_the_late_charge_takes_nothing(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    assert (
        await deliver(sidecar, "order.cancelled", order_cancelled(order_id, previous="PENDING_PAYMENT"))
        is Delivery.SUCCESS
    )
    voided = stored(sidecar, order_id)
    assert voided is not None
    assert (voided["status"], voided["amount"]) == ("VOIDED", 42.5)
    assert await deliver(sidecar, "order.created", order_created(order_id)) is Delivery.SUCCESS
    assert stored(sidecar, order_id) == voided
    assert staged(sidecar) == []
    assert money_taken(sidecar, order_id) == (0, 0)


async def test_expiry_of_a_held_payment_voids_it(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    await deliver(sidecar, "order.created", order_created(order_id, card="tok_hold"))
    assert await deliver(sidecar, "order.expired", expired(order_id)) is Delivery.SUCCESS
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert (payment["status"], payment["reason"]) == ("VOIDED", "ORDER_EXPIRED")
    assert staged(sidecar) == []


@pytest.mark.parametrize("token", ["tok_decline", "tok_hold"])
async def test_settled_payments_are_left_alone(token: str, sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    await deliver(sidecar, "order.created", order_created(order_id, card=token))
    await deliver(sidecar, "order.expired", expired(order_id))  # FAILED stays, PENDING becomes VOIDED
    before = stored(sidecar, order_id)
    assert await deliver(sidecar, "order.cancelled", order_cancelled(order_id)) is Delivery.SUCCESS
    assert await deliver(sidecar, "order.expired", expired(order_id)) is Delivery.SUCCESS
    assert stored(sidecar, order_id) == before
    assert before is not None and before["status"] == ("FAILED" if token == "tok_decline" else "VOIDED")
