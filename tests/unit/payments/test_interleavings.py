"""Charges against closes in every order, and crashes between the provider call and the record."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from apps.payments.events import consumer
from servicekit import Delivery, DependencyUnavailable, EventEnvelope, new_event
from servicekit.sidecar import StateItem, StateOp
from tests.unit.fakes import FakeSidecar
from tests.unit.payments.helpers import (
    cloud_event,
    ledger,
    money_taken,
    new_order_id,
    order_cancelled,
    order_created,
    services_on,
    staged,
    stored,
)

pytestmark = pytest.mark.anyio


class CrashingSidecar(FakeSidecar):
    """A payments that dies at one step of a charge: before its intent lands, or right after the provider."""

    def __init__(self, order_id: str, *, at: str) -> None:
        super().__init__()
        self.order_id = order_id
        self.at: str | None = at

    def _dies(self, step: str) -> None:
        if self.at == step:
            self.at = None
            raise DependencyUnavailable(f"payments died at {step}", code="CRASHED")

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        if key == f"provider:{self.order_id}":
            self._dies("before-provider")
        return await super().get_state(key, store=store)

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        keys = {op.key for op in operations}
        if f"payment:{self.order_id}" in keys:
            self._dies("intent")
            self._dies("settle")
        await super().transact(operations, store=store)
        if f"provider:{self.order_id}" in keys and self.at == "after-provider":
            self.at = "settle"  # the provider charged; the record that follows is lost


async def deliver(
    sidecar: FakeSidecar, topic: str, payload: dict[str, Any], event: EventEnvelope | None = None
) -> Delivery:
    """Deliver to a freshly started payments: nothing survives but the sidecar's state."""
    return await consumer.deliver(topic, cloud_event(topic, payload, event=event), services_on(sidecar))


def outcomes(sidecar: FakeSidecar) -> list[str]:
    return [topic for topic, _ in staged(sidecar)]


async def test_a_lost_intent_is_written_again_by_the_redelivery() -> None:
    order_id = new_order_id()
    sidecar, event = CrashingSidecar(order_id, at="intent"), new_event(order_created(order_id))
    assert await deliver(sidecar, "order.created", {}, event) is Delivery.RETRY
    assert stored(sidecar, order_id) is None and ledger(sidecar, order_id) is None
    assert await deliver(sidecar, "order.created", {}, event) is Delivery.SUCCESS
    assert (stored(sidecar, order_id) or {})["status"] == "SUCCEEDED"
    assert money_taken(sidecar, order_id) == (1, 0)


async def charged_then_crashed(order_id: str) -> CrashingSidecar:
    """payments charged at the provider and died before recording it: CHARGING, money taken."""
    sidecar = CrashingSidecar(order_id, at="after-provider")
    assert await deliver(sidecar, "order.created", order_created(order_id)) is Delivery.RETRY
    return sidecar


async def test_crash_after_the_provider_charged_is_finished_by_the_redelivery_without_a_second_charge() -> None:
    order_id = new_order_id()
    sidecar = await charged_then_crashed(order_id)
    intent = stored(sidecar, order_id)
    assert intent is not None and (intent["status"], intent["token"]) == ("CHARGING", "tok_ok")
    assert money_taken(sidecar, order_id) == (1, 0)
    assert outcomes(sidecar) == []

    # The redelivery may even carry another card: the intent's token is the one the provider hears.
    assert await deliver(sidecar, "order.created", order_created(order_id, card="tok_decline")) is Delivery.SUCCESS
    settled = stored(sidecar, order_id)
    assert settled is not None
    assert (settled["status"], settled["id"], "token" in settled) == ("SUCCEEDED", intent["id"], False)
    entry = ledger(sidecar, order_id)
    assert entry is not None and (entry.captures, entry.charge_requests) == (1, 2)
    assert outcomes(sidecar) == ["payment.succeeded"]


@pytest.mark.parametrize("close", ["order.cancelled", "order.expired"])
async def test_close_finding_a_charge_in_flight_refunds_it_and_a_late_redelivery_takes_nothing(close: str) -> None:
    order_id = new_order_id()
    sidecar = await charged_then_crashed(order_id)
    assert (stored(sidecar, order_id) or {})["status"] == "CHARGING"
    assert money_taken(sidecar, order_id) == (1, 0)

    body = order_cancelled(order_id, previous="PENDING_PAYMENT") if close == "order.cancelled" else {}
    body = body or {"orderId": order_id, "userId": "u-1", "total": 42.5}
    assert await deliver(sidecar, close, body) is Delivery.SUCCESS
    closed = stored(sidecar, order_id)
    assert closed is not None and closed["status"] == "REFUNDED"
    assert money_taken(sidecar, order_id) == (1, 1)

    assert await deliver(sidecar, "order.created", order_created(order_id)) is Delivery.SUCCESS
    assert await deliver(sidecar, close, body) is Delivery.SUCCESS
    assert stored(sidecar, order_id) == closed
    assert money_taken(sidecar, order_id) == (1, 1)
    assert outcomes(sidecar) == []  # the order is closed: no payment.succeeded to confirm it


async def test_close_finding_an_intent_the_provider_never_heard_of_blocks_the_charge() -> None:
    order_id = new_order_id()
    sidecar = CrashingSidecar(order_id, at="before-provider")
    assert await deliver(sidecar, "order.created", order_created(order_id)) is Delivery.RETRY
    assert (stored(sidecar, order_id) or {})["status"] == "CHARGING"
    assert ledger(sidecar, order_id) is None

    assert (
        await deliver(sidecar, "order.expired", {"orderId": order_id, "userId": "u-1", "total": 42.5})
        is Delivery.SUCCESS
    )
    assert (stored(sidecar, order_id) or {})["status"] == "VOIDED"
    assert await deliver(sidecar, "order.created", order_created(order_id)) is Delivery.SUCCESS
    assert (stored(sidecar, order_id) or {})["status"] == "VOIDED"
    assert money_taken(sidecar, order_id) == (0, 0)
    assert outcomes(sidecar) == []


class ShuffledSidecar(FakeSidecar):
    """Yields to the event loop a seeded-random number of times around every state call."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.random = random.Random(seed)

    async def _yield(self) -> None:
        for _ in range(self.random.randint(0, 3)):
            await asyncio.sleep(0)

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        await self._yield()
        item = await super().get_state(key, store=store)
        await self._yield()
        return item

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await self._yield()
        await super().transact(operations, store=store)
        await self._yield()


@pytest.mark.parametrize("seed", range(150))
async def test_any_interleaving_of_charges_and_a_close_keeps_no_money(seed: int) -> None:
    sidecar, order_id = ShuffledSidecar(seed), new_order_id()
    created = new_event(order_created(order_id))
    close = "order.cancelled" if seed % 2 else "order.expired"
    closed_body = order_cancelled(order_id, previous="PENDING_PAYMENT")
    deliveries = [
        consumer.deliver("order.created", cloud_event("order.created", {}, event=created), services_on(sidecar)),
        consumer.deliver("order.created", cloud_event("order.created", {}, event=created), services_on(sidecar)),
        consumer.deliver(close, cloud_event(close, closed_body), services_on(sidecar)),
    ]
    assert await asyncio.gather(*deliveries) == [Delivery.SUCCESS] * 3
    payment = stored(sidecar, order_id)
    assert payment is not None
    captures, refunds = money_taken(sidecar, order_id)
    assert captures <= 1 and captures == refunds, (payment, ledger(sidecar, order_id))
    assert payment["status"] in ("VOIDED", "REFUNDED", "FAILED")
    assert payment["status"] != "REFUNDED" or captures == 1
    assert len(outcomes(sidecar)) <= 1  # at most one payment.* event, whoever settled first


@pytest.mark.parametrize("seed", range(50))
async def test_racing_redeliveries_capture_once(seed: int) -> None:
    sidecar, order_id = ShuffledSidecar(seed), new_order_id()
    created = new_event(order_created(order_id))
    event = cloud_event("order.created", {}, event=created)
    deliveries = (consumer.deliver("order.created", event, services_on(sidecar)) for _ in range(4))
    assert await asyncio.gather(*deliveries) == [Delivery.SUCCESS] * 4
    assert (stored(sidecar, order_id) or {})["status"] == "SUCCEEDED"
    assert money_taken(sidecar, order_id) == (1, 0)
    assert outcomes(sidecar) == ["payment.succeeded"]
