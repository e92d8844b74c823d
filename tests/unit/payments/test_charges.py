"""order.created through the consumer: exactly one payment and one outcome event per order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apps.payments.events import consumer
from servicekit import Delivery, EventEnvelope, new_event
from servicekit.sidecar import StateItem
from servicekit.state_outbox import StateOutbox
from tests.unit.fakes import FakeSidecar, InterleavingSidecar
from tests.unit.payments.helpers import (
    cloud_event,
    new_order_id,
    order_created,
    services_on,
    staged,
    stored,
)

pytestmark = pytest.mark.anyio


async def deliver(
    sidecar: FakeSidecar, topic: str, payload: dict[str, Any], event: EventEnvelope | None = None
) -> Delivery:
    return await consumer.deliver(topic, cloud_event(topic, payload, event=event), services_on(sidecar))


async def test_approved_order_is_charged_and_announced_once_published(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    assert await deliver(sidecar, "order.created", order_created(order_id, total=42.5)) is Delivery.SUCCESS
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert (payment["orderId"], payment["userId"], payment["amount"]) == (order_id, "u-1", 42.5)
    assert (payment["status"], payment["reason"]) == ("SUCCEEDED", None)
    assert payment["createdAt"].endswith("Z")
    expected = {"paymentId": payment["id"], "orderId": order_id, "userId": "u-1", "amount": 42.5}
    assert staged(sidecar) == [("payment.succeeded", expected)]

    assert await StateOutbox(sidecar).publish_pending() == 1
    [(topic, event)] = sidecar.published
    assert (topic, event.payload) == ("payment.succeeded", expected)


async def test_redelivered_and_repeated_order_created_charge_once(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    event = new_event(order_created(order_id))
    assert await deliver(sidecar, "order.created", {}, event) is Delivery.SUCCESS
    first = stored(sidecar, order_id)
    assert await deliver(sidecar, "order.created", {}, event) is Delivery.SUCCESS  # same event id
    assert await deliver(sidecar, "order.created", order_created(order_id, card="tok_decline")) is Delivery.SUCCESS
    assert stored(sidecar, order_id) == first
    assert [topic for topic, _ in staged(sidecar)] == ["payment.succeeded"]


async def test_two_concurrent_deliveries_make_one_payment() -> None:
    sidecar, order_id = InterleavingSidecar(), new_order_id()
    services = services_on(sidecar)
    first = cloud_event("order.created", order_created(order_id))
    second = cloud_event("order.created", order_created(order_id))
    outcomes = await asyncio.gather(
        consumer.deliver("order.created", first, services),
        consumer.deliver("order.created", second, services),
    )
    assert list(outcomes) == [Delivery.SUCCESS, Delivery.SUCCESS]
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert [(topic, body["paymentId"]) for topic, body in staged(sidecar)] == [("payment.succeeded", payment["id"])]


async def test_declined_token_fails_with_insufficient_funds(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    assert (
        await deliver(sidecar, "order.created", order_created(order_id, card="tok_decline", total=9.99))
        is Delivery.SUCCESS
    )
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert (payment["status"], payment["reason"]) == ("FAILED", "INSUFFICIENT_FUNDS")
    expected = {"paymentId": payment["id"], "orderId": order_id, "userId": "u-1", "amount": 9.99}
    assert staged(sidecar) == [("payment.failed", {**expected, "reason": "INSUFFICIENT_FUNDS"})]


async def test_unknown_token_fails_as_invalid(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    assert await deliver(sidecar, "order.created", order_created(order_id, card="tok_forged")) is Delivery.SUCCESS
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert (payment["status"], payment["reason"]) == ("FAILED", "INVALID_PAYMENT_TOKEN")
    assert [(topic, body["reason"]) for topic, body in staged(sidecar)] == [("payment.failed", "INVALID_PAYMENT_TOKEN")]


async def test_held_token_stays_pending_without_event(sidecar: FakeSidecar) -> None:
    order_id = new_order_id()
    assert await deliver(sidecar, "order.created", order_created(order_id, card="tok_hold")) is Delivery.SUCCESS
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert payment["status"] == "PENDING"
    assert staged(sidecar) == []


class VoidWinsRace(FakeSidecar):
    """A cancellation writes its VOIDED record right after the charge read that no payment exists."""

    def __init__(self, order_id: str) -> None:
        super().__init__()
        self.order_id = order_id
        self.raced = False

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        item = await super().get_state(key, store=store)
        if key == f"payment:{self.order_id}" and item is None and not self.raced:
            self.raced = True
            cancelled = {"orderId": self.order_id, "userId": "u-1", "total": 1.0, "reason": "CUSTOMER_CANCELLED"}
            outcome = await consumer.deliver(
                "order.cancelled", cloud_event("order.cancelled", cancelled), services_on(self)
            )
            assert outcome is Delivery.SUCCESS
        return item


async def test_charge_losing_the_insert_to_a_void_takes_nothing() -> None:
    order_id = new_order_id()
    sidecar = VoidWinsRace(order_id)
    assert await deliver(sidecar, "order.created", order_created(order_id)) is Delivery.SUCCESS
    assert sidecar.raced
    payment = stored(sidecar, order_id)
    assert payment is not None
    assert (payment["status"], payment["reason"]) == ("VOIDED", "CUSTOMER_CANCELLED")
    assert staged(sidecar) == []
