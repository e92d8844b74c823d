"""analytics through its consumer and internal API, on a FakeSidecar."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.analytics.events import consumer
from servicekit import Delivery, new_event
from tests.unit.analytics.fakes import CountingSidecar
from tests.unit.analytics.helpers import (
    PAYLOADS,
    cloud_event,
    deliver,
    services_on,
    shards,
    summary,
)
from tests.unit.fakes import FakeSidecar
from tests.unit.servicekit.helpers import sample

DELIVERIES = "junction_event_deliveries_total"

pytestmark = pytest.mark.anyio


async def test_every_topic_is_counted(sidecar: FakeSidecar) -> None:
    for topic, payload in PAYLOADS.items():
        assert await deliver(sidecar, topic, payload) is Delivery.SUCCESS, topic
    assert (await summary(sidecar))["eventCounts"] == dict.fromkeys(PAYLOADS, 1)
    assert (await summary(sidecar))["registrations"] == 1


async def test_order_lifecycle_with_cancel_of_a_confirmed_order(sidecar: FakeSidecar) -> None:
    for topic in ("order.created", "order.confirmed", "order.created"):
        await deliver(sidecar, topic, PAYLOADS[topic])
    assert (await summary(sidecar))["revenue"] == 12.5
    await deliver(sidecar, "order.cancelled", PAYLOADS["order.cancelled"])
    await deliver(sidecar, "order.expired", PAYLOADS["order.expired"])
    state = await summary(sidecar)
    assert state["ordersByStatus"] == {"PENDING_PAYMENT": 0, "CONFIRMED": 0, "CANCELLED": 1, "EXPIRED": 1}
    assert state["revenue"] == 0.0


async def test_redelivered_event_changes_nothing(sidecar: FakeSidecar) -> None:
    event = new_event(PAYLOADS["order.confirmed"])
    await deliver(sidecar, "order.created", PAYLOADS["order.created"])
    assert await deliver(sidecar, "order.confirmed", {}, event) is Delivery.SUCCESS
    before, duplicates = dict(sidecar.state), sample(DELIVERIES, topic="order.confirmed", outcome="duplicate")
    assert await deliver(sidecar, "order.confirmed", {}, event) is Delivery.SUCCESS
    assert sidecar.state == before  # not even rewritten: same values, same ETags
    assert sample(DELIVERIES, topic="order.confirmed", outcome="duplicate") == duplicates + 1
    assert (await summary(sidecar))["eventCounts"]["order.confirmed"] == 1
    assert len(shards(sidecar)) == 1


async def test_concurrent_events_on_the_hot_key_are_all_counted() -> None:
    sidecar = CountingSidecar()
    services = services_on(sidecar)
    events = [new_event(PAYLOADS["order.confirmed"]) for _ in range(15)]
    deliveries = (consumer.deliver("order.confirmed", cloud_event("order.confirmed", e), services) for e in events)
    assert await asyncio.gather(*deliveries) == [Delivery.SUCCESS] * 15
    assert len(shards(sidecar)) == 1  # one order: every writer on one shard
    assert sidecar.clashes == 0  # they took turns: none read an ETag another was about to replace
    state = await summary(sidecar)
    assert (state["ordersByStatus"]["CONFIRMED"], state["revenue"]) == (15, 187.5)


@pytest.mark.parametrize(
    ("topic", "change"),
    [
        ("user.registered", {"userId": None}),
        ("order.created", {"total": "12.50"}),
        ("order.confirmed", {"total": None}),
        ("order.cancelled", {"previousStatus": "EXPIRED"}),
        ("order.cancelled", {"previousStatus": None}),
        ("order.expired", {"orderId": 1}),
        ("product.stock_changed", {"productId": ""}),
        ("payment.succeeded", {"paymentId": None}),
        ("tenant.provisioned", {"tenantId": None}),
    ],
)
async def test_bad_payloads_are_dropped_and_count_nothing(
    topic: str, change: dict[str, Any], sidecar: FakeSidecar
) -> None:
    payload = {k: v for k, v in {**PAYLOADS[topic], **change}.items() if v is not None}
    assert await deliver(sidecar, topic, payload) is Delivery.DROP
    assert sidecar.state == {}


def test_it_handles_every_topic() -> None:
    """What its sidecar subscribes is declared (tests/unit/test_subscriptions.py holds the YAML to this)."""
    assert set(consumer.topics()) == {*PAYLOADS, "replays.analytics"}


def test_empty_summary(client: TestClient) -> None:
    assert client.get("/reports/summary").json()["data"] == {
        "ordersByStatus": {"PENDING_PAYMENT": 0, "CONFIRMED": 0, "CANCELLED": 0, "EXPIRED": 0},
        "revenue": 0.0,
        "registrations": 0,
        "eventCounts": {},
    }


def test_summary_reports_what_was_counted(client: TestClient) -> None:
    for topic in ("user.registered", "order.created", "order.confirmed"):
        event = cloud_event(topic, new_event({**PAYLOADS[topic], "requestId": uuid.uuid4().hex}))
        assert client.post(f"/events/{topic}", json=event).json() == {"status": "SUCCESS"}
    data = client.get("/reports/summary").json()["data"]
    assert data["ordersByStatus"]["CONFIRMED"] == 1
    assert (data["revenue"], data["registrations"]) == (12.5, 1)
    assert data["eventCounts"] == {"user.registered": 1, "order.created": 1, "order.confirmed": 1}
    assert "seen" not in data


async def test_an_event_replayed_after_thousands_of_others_is_counted_once(sidecar: FakeSidecar) -> None:
    from apps.analytics import domain, service
    from apps.analytics.storage import DaprStateSummaryRepository

    store = DaprStateSummaryRepository(sidecar, shards=1)
    assert await service.observe(domain.counted("tick", "e-first"), summaries=store)
    for n in range(2100):  # more than the old window of 2,000 remembered ids
        await service.observe(domain.counted("tick", f"e-{n}"), summaries=store)
    assert not await service.observe(domain.counted("tick", "e-first"), summaries=store)
    total = await service.current_summary(summaries=store)
    assert total.event_counts == {"tick": 2101}
    shard = await sidecar.get_state("summary:0")
    assert shard is not None and shard.value["seen"] == []  # the hot document no longer grows
