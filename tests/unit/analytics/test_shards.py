"""The summary split over shards: where events land, how the shards add up, and that nothing is lost."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.analytics import service
from apps.analytics.events import consumer
from apps.analytics.settings import AnalyticsSettings
from apps.analytics.storage import SHARDS, DaprStateSummaryRepository
from servicekit import Delivery, new_event
from tests.unit.analytics.fakes import CountingSidecar
from tests.unit.analytics.helpers import (
    ORDER_TOPICS,
    PAYLOADS,
    cloud_event,
    deliver,
    of_order,
    services_on,
    shards,
    summary,
)
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


def orders_in_distinct_shards(count: int) -> list[str]:
    """Order ids that land in `count` different shards, so a test really spans shards."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < count:
        found.setdefault(service.shard_of(f"o-{n}", SHARDS), f"o-{n}")
        n += 1
    return list(found.values())


async def test_every_event_of_one_order_lands_in_that_orders_shard(sidecar: FakeSidecar) -> None:
    for topic in ORDER_TOPICS:
        assert await deliver(sidecar, topic, of_order(topic, "o-42")) is Delivery.SUCCESS, topic
    expected = f"summary:{zlib.crc32(b'o-42') % 16}"
    assert list(shards(sidecar)) == [expected]
    assert shards(sidecar)[expected]["eventCounts"] == dict.fromkeys(ORDER_TOPICS, 1)


async def test_a_cancel_meets_its_own_create_in_the_shard(sidecar: FakeSidecar) -> None:
    for order_id in orders_in_distinct_shards(4):
        await deliver(sidecar, "order.created", of_order("order.created", order_id))
        cancel = {**of_order("order.cancelled", order_id), "previousStatus": "PENDING_PAYMENT"}
        await deliver(sidecar, "order.cancelled", cancel)
    stored = shards(sidecar)
    assert len(stored) == 4
    for shard in stored.values():  # a cancel elsewhere would leave a PENDING order here
        assert shard["ordersByStatus"] == {"PENDING_PAYMENT": 0, "CONFIRMED": 0, "CANCELLED": 1, "EXPIRED": 0}


async def test_other_events_spread_by_their_own_id(sidecar: FakeSidecar) -> None:
    for _ in range(40):
        await deliver(sidecar, "user.registered", PAYLOADS["user.registered"])
    assert len(shards(sidecar)) > 1  # all 40 random ids in one shard: about 16**-39
    assert (await summary(sidecar))["registrations"] == 40


def test_the_report_adds_up_every_shard(client: TestClient, sidecar: FakeSidecar) -> None:
    def post_event(topic: str, payload: dict[str, Any]) -> None:
        """Through the app's route, as Dapr delivers it: the test reads the report with TestClient, so stays sync."""
        client.post(f"/events/{topic}", json=cloud_event(topic, new_event(payload)))

    orders = orders_in_distinct_shards(3)
    for order_id in orders:
        for topic in ("order.created", "order.confirmed"):
            post_event(topic, of_order(topic, order_id))
    post_event("order.created", of_order("order.created", "o-pending"))
    post_event("user.registered", PAYLOADS["user.registered"])
    assert len(shards(sidecar)) >= 3
    data = client.get("/reports/summary").json()["data"]
    assert data == {
        "ordersByStatus": {"PENDING_PAYMENT": 1, "CONFIRMED": 3, "CANCELLED": 0, "EXPIRED": 0},
        "revenue": 37.5,
        "registrations": 1,
        "eventCounts": {"order.created": 4, "order.confirmed": 3, "user.registered": 1},
    }


async def test_the_report_reads_the_shards_concurrently() -> None:
    sidecar = CountingSidecar()
    store = DaprStateSummaryRepository(sidecar, shards=8)
    await service.current_summary(summaries=store)
    assert sidecar.most_reading == 8


async def test_concurrent_writers_across_shards_are_all_counted_exactly() -> None:
    sidecar = CountingSidecar()
    services = services_on(sidecar, shards=4)  # few shards: writers of different orders clash too
    deliveries: list[tuple[str, dict[str, Any]]] = []
    for n in range(12):  # no creates: a create racing its confirm would make PENDING depend on timing
        deliveries += [(topic, of_order(topic, f"o-{n}")) for topic in ("order.confirmed", "payment.succeeded")]
        deliveries.append(("user.registered", PAYLOADS["user.registered"]))
    outcomes = await asyncio.gather(
        *(consumer.deliver(t, cloud_event(t, new_event(p)), services) for t, p in deliveries)
    )
    assert outcomes == [Delivery.SUCCESS] * len(deliveries)
    assert len(shards(sidecar)) == 4
    total = await summary(sidecar)
    assert total["ordersByStatus"] == {"PENDING_PAYMENT": 0, "CONFIRMED": 12, "CANCELLED": 0, "EXPIRED": 0}
    assert (total["revenue"], total["registrations"]) == (150.0, 12)
    assert total["eventCounts"] == {"order.confirmed": 12, "payment.succeeded": 12, "user.registered": 12}


@pytest.mark.parametrize("topic", ["order.confirmed", "payment.succeeded", "user.registered", "tenant.provisioned"])
async def test_a_redelivery_is_recognised_by_its_shard(topic: str, sidecar: FakeSidecar) -> None:
    event = new_event(PAYLOADS[topic])
    assert await deliver(sidecar, topic, {}, event) is Delivery.SUCCESS
    for n in range(20):  # other topics in between, some in the same shard
        await deliver(sidecar, "tenant.provisioning_failed", PAYLOADS["tenant.provisioning_failed"])
        await deliver(sidecar, "order.created", of_order("order.created", f"o-{n}"))
    before = dict(sidecar.state)
    assert await deliver(sidecar, topic, {}, event) is Delivery.SUCCESS
    assert sidecar.state == before
    assert (await summary(sidecar))["eventCounts"][topic] == 1


def test_shard_count_comes_from_settings(monkeypatch: pytest.MonkeyPatch, sidecar: FakeSidecar) -> None:
    assert AnalyticsSettings().summary_shards == 16
    monkeypatch.setenv("SUMMARY_SHARDS", "4")
    assert AnalyticsSettings().summary_shards == 4
    with pytest.raises(ValueError, match="at least one shard"):
        DaprStateSummaryRepository(sidecar, shards=0)
