"""notifications' edges: bad events are dropped, and the internal HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.notifications.events import consumer
from servicekit import Delivery
from tests.unit.fakes import FakeSidecar
from tests.unit.notifications.helpers import cloud_event, envelope, new_id, services_on

pytestmark = pytest.mark.anyio

TENANT = {"tenantId": "t-1", "subdomain": "satit", "name": "Satit", "userId": "u-1"}
ORDER_CREATED = {"orderId": "o-1", "userId": "u-1", "total": 5, "items": [], "paymentToken": "tok_ok"}


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("user.registered", {"name": "Ada"}),
        ("user.registered", {"userId": 12, "name": "Ada"}),
        ("user.registered", {"userId": "u-1", "name": ""}),
        ("order.created", {**ORDER_CREATED, "userId": None}),
        ("order.created", {**ORDER_CREATED, "total": "5.00"}),
        ("order.confirmed", {"orderId": "o-1", "userId": "u-1"}),
        ("order.cancelled", {"orderId": "o-1", "userId": "u-1", "total": 5}),
        ("order.expired", {"orderId": ["o-1"], "userId": "u-1", "total": 5}),
        ("payment.succeeded", {"orderId": "o-1", "userId": "u-1", "amount": None}),
        ("payment.failed", {"orderId": "o-1", "userId": "u-1", "amount": 5, "reason": 3}),
        ("tenant.provisioned", {"tenantId": "t-1", "subdomain": "s", "name": "S", "tablesCreated": ["a"]}),
        ("tenant.provisioned", {**TENANT, "tablesCreated": "admin_users"}),
        ("tenant.provisioned", {**TENANT, "tablesCreated": None}),
        ("tenant.provisioned", {**TENANT, "name": ""}),
        ("tenant.provisioning_failed", {**TENANT, "reason": None}),
        ("tenant.provisioning_failed", {**TENANT, "reason": ""}),
        ("tenant.provisioning_failed", {**TENANT, "subdomain": 7, "reason": "x"}),
    ],
)
async def test_bad_payloads_are_dropped_and_write_nothing(
    topic: str, payload: dict[str, Any], sidecar: FakeSidecar
) -> None:
    outcome = await consumer.deliver(topic, cloud_event(topic, envelope(payload)), services_on(sidecar))
    assert outcome is Delivery.DROP
    assert sidecar.state == {}


async def test_topics_it_does_not_consume_are_dropped(sidecar: FakeSidecar) -> None:
    payload = {
        "productId": "p-1",
        "sku": "S",
        "stock": 1,
        "reserved": 0,
        "change": 1,
        "reason": "created",
        "orderId": None,
    }
    event = cloud_event("product.stock_changed", envelope({**payload, "userId": "u-1"}))
    assert await consumer.deliver("product.stock_changed", event, services_on(sidecar)) is Delivery.DROP


def test_it_handles_nine_topics_and_its_replays() -> None:
    """What its sidecar subscribes is declared (tests/unit/test_subscriptions.py holds the YAML to this)."""
    topics = consumer.topics()
    assert len(topics) == 10
    assert {"tenant.provisioned", "tenant.provisioning_failed", "replays.notifications"} <= set(topics)


def test_list_is_newest_first_with_a_limit_and_the_total(client: TestClient) -> None:
    user_id = new_id()
    for minute, order_id in enumerate(["o-first", "o-second", "o-third"]):
        event = envelope({"orderId": order_id, "userId": user_id, "total": 2}, minute=minute)
        assert client.post("/events/order.expired", json=cloud_event("order.expired", event)).json() == {
            "status": "SUCCESS"
        }
    welcome = envelope({"userId": user_id, "name": "A"}, minute=-1)  # delivered last, happened first
    client.post("/events/user.registered", json=cloud_event("user.registered", welcome))
    body = client.get("/notifications", params={"userId": user_id, "limit": 3}).json()["data"]
    assert body["total"] == 4
    assert [i["orderId"] for i in body["items"]] == ["o-third", "o-second", "o-first"]
    assert set(body["items"][0]) == {"id", "type", "message", "createdAt", "orderId"}
    assert body["items"][0]["createdAt"] == "2026-03-01T12:02:00Z"


def test_unknown_user_has_no_notifications(client: TestClient) -> None:
    response = client.get("/notifications", params={"userId": new_id()})
    assert (response.status_code, response.json()["data"]) == (200, {"items": [], "total": 0})


@pytest.mark.parametrize("params", [{}, {"userId": ""}, {"userId": "u-1", "limit": 0}, {"userId": "u-1", "limit": 201}])
def test_bad_queries_are_refused(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/notifications", params=params)
    assert response.status_code == 200  # inside the mesh a refusal is HTTP 200, its status in the envelope
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 422
    assert body["error"]["code"] == "VALIDATION_FAILED"
