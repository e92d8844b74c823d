"""analytics through its consumer and internal API, on a FakeSidecar."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.analytics.deps import AnalyticsServices
from apps.analytics.events import consumer
from apps.analytics.main import create_app
from apps.analytics.settings import AnalyticsSettings
from apps.analytics.storage import DaprSummaryStore
from servicekit import Delivery, EventEnvelope, new_event
from servicekit.fakes import FakeSidecar
from servicekit.sidecar import StateItem, StateOp

ORDER = {"orderId": "o-1", "userId": "u-1", "total": 12.5}
PAYLOADS: dict[str, dict[str, Any]] = {
    "user.registered": {"userId": "u-1", "email": "a@example.com", "name": "A", "role": "customer"},
    "product.stock_changed": {
        "productId": "p-1",
        "sku": "PEN",
        "stock": 3,
        "reserved": 1,
        "change": -1,
        "reason": "reserved",
        "orderId": "o-1",
    },
    "order.created": {**ORDER, "items": [], "paymentToken": "tok_ok"},
    "order.confirmed": {**ORDER, "paymentId": "pay-1"},
    "order.cancelled": {**ORDER, "previousStatus": "CONFIRMED", "reason": "CUSTOMER_CANCELLED"},
    "order.expired": ORDER,
    "payment.succeeded": {"paymentId": "pay-1", "orderId": "o-1", "userId": "u-1", "amount": 12.5},
    "payment.failed": {"paymentId": "pay-1", "orderId": "o-1", "userId": "u-1", "amount": 12.5, "reason": "X"},
    "tenant.provisioned": {"tenantId": "t-1", "subdomain": "s", "name": "S", "tablesCreated": 7},
    "tenant.provisioning_failed": {"tenantId": "t-1", "subdomain": "s", "name": "S", "reason": "boom"},
}


class InterleavingSidecar(FakeSidecar):
    """Yields to the event loop around every state call, so gathered deliveries really interleave."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        item = await super().get_state(key, store=store)
        await asyncio.sleep(0)
        return item

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await asyncio.sleep(0)
        await super().transact(operations, store=store)


def services_on(sidecar: FakeSidecar) -> AnalyticsServices:
    return AnalyticsServices(summaries=DaprSummaryStore(sidecar))


def cloud_event(topic: str, event: EventEnvelope) -> dict[str, Any]:
    return {"id": event.event_id, "type": topic, "data": event.model_dump(mode="json", by_alias=True)}


def deliver(sidecar: FakeSidecar, topic: str, payload: dict[str, Any], event: EventEnvelope | None = None) -> Delivery:
    envelope = event or new_event(payload)
    return asyncio.run(consumer.deliver(topic, cloud_event(topic, envelope), services_on(sidecar)))


def summary(sidecar: FakeSidecar) -> dict[str, Any]:
    return dict(sidecar.state[("statestore", "summary")].value)


def test_every_topic_is_counted() -> None:
    sidecar = FakeSidecar()
    for topic, payload in PAYLOADS.items():
        assert deliver(sidecar, topic, payload) is Delivery.SUCCESS, topic
    assert summary(sidecar)["eventCounts"] == dict.fromkeys(PAYLOADS, 1)
    assert summary(sidecar)["registrations"] == 1


def test_order_lifecycle_with_cancel_of_a_confirmed_order() -> None:
    sidecar = FakeSidecar()
    for topic in ("order.created", "order.confirmed", "order.created"):
        deliver(sidecar, topic, PAYLOADS[topic])
    assert summary(sidecar)["revenue"] == 12.5
    deliver(sidecar, "order.cancelled", PAYLOADS["order.cancelled"])
    deliver(sidecar, "order.expired", PAYLOADS["order.expired"])
    state = summary(sidecar)
    assert state["ordersByStatus"] == {"PENDING_PAYMENT": 0, "CONFIRMED": 0, "CANCELLED": 1, "EXPIRED": 1}
    assert state["revenue"] == 0.0


def test_redelivered_event_changes_nothing() -> None:
    sidecar = FakeSidecar()
    event = new_event(PAYLOADS["order.confirmed"])
    deliver(sidecar, "order.created", PAYLOADS["order.created"])
    assert deliver(sidecar, "order.confirmed", {}, event) is Delivery.SUCCESS
    before = summary(sidecar)
    assert deliver(sidecar, "order.confirmed", {}, event) is Delivery.SUCCESS
    assert summary(sidecar) == before
    assert before["eventCounts"]["order.confirmed"] == 1


def test_concurrent_events_on_the_hot_key_are_all_counted() -> None:
    sidecar = InterleavingSidecar()
    services = services_on(sidecar)
    events = [new_event(PAYLOADS["order.confirmed"]) for _ in range(15)]

    async def all_at_once() -> list[Delivery]:
        deliveries = (consumer.deliver("order.confirmed", cloud_event("order.confirmed", e), services) for e in events)
        return list(await asyncio.gather(*deliveries))

    assert asyncio.run(all_at_once()) == [Delivery.SUCCESS] * 15
    state = summary(sidecar)
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
def test_bad_payloads_are_dropped_and_count_nothing(topic: str, change: dict[str, Any]) -> None:
    sidecar = FakeSidecar()
    payload = {k: v for k, v in {**PAYLOADS[topic], **change}.items() if v is not None}
    assert deliver(sidecar, topic, payload) is Delivery.DROP
    assert sidecar.state == {}


@pytest.fixture
def client() -> TestClient:
    app = create_app(AnalyticsSettings())
    app.state.services = services_on(FakeSidecar())  # no lifespan: no real sidecar is needed
    return TestClient(app)


def test_subscribes_to_every_topic(client: TestClient) -> None:
    subscriptions = client.get("/dapr/subscribe").json()
    assert {s["topic"] for s in subscriptions} == set(PAYLOADS)
    assert {s["deadLetterTopic"] for s in subscriptions} == {"deadletters"}


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
