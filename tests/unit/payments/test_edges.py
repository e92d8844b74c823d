"""payments' edges: bad events are dropped, a dead store is retried, and the internal HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.payments.events import consumer
from servicekit import Delivery, DependencyUnavailable
from servicekit.sidecar import StateItem
from tests.unit.fakes import FakeSidecar
from tests.unit.payments.helpers import cloud_event, new_order_id, order_created, services_on

pytestmark = pytest.mark.anyio


def good(order_id: str) -> dict[str, Any]:
    return order_created(order_id)


@pytest.mark.parametrize(
    ("topic", "change"),
    [
        ("order.created", {"userId": None}),
        ("order.created", {"userId": 7}),
        ("order.created", {"total": "42.50"}),
        ("order.created", {"total": True}),
        ("order.created", {"total": -1}),
        ("order.created", {"items": "pen"}),
        ("order.created", {"paymentToken": None}),
        ("order.cancelled", {"orderId": ""}),
        ("order.expired", {"total": None}),
    ],
)
async def test_bad_payloads_are_dropped_and_write_nothing(
    topic: str, change: dict[str, Any], sidecar: FakeSidecar
) -> None:
    payload = {k: v for k, v in {**good(new_order_id()), **change}.items() if v is not None}
    assert await consumer.deliver(topic, cloud_event(topic, payload), services_on(sidecar)) is Delivery.DROP
    assert sidecar.state == {}


async def test_unknown_schema_version_is_dropped(sidecar: FakeSidecar) -> None:
    event = cloud_event("order.created", good(new_order_id()))
    event["data"]["schemaVersion"] = 2
    assert await consumer.deliver("order.created", event, services_on(sidecar)) is Delivery.DROP


class DeadStore(FakeSidecar):
    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        raise DependencyUnavailable("The state store is not reachable.", code="STATE_UNAVAILABLE")


async def test_unreachable_store_is_retried() -> None:
    event = cloud_event("order.created", good(new_order_id()))
    assert await consumer.deliver("order.created", event, services_on(DeadStore())) is Delivery.RETRY


def test_it_handles_the_orders_it_charges_and_closes_and_its_replays() -> None:
    """What its sidecar subscribes is declared (tests/unit/test_subscriptions.py holds the YAML to this)."""
    assert set(consumer.topics()) == {"order.created", "order.cancelled", "order.expired", "replays.payments"}


def test_payment_of_an_order_is_listed(client: TestClient) -> None:
    order_id = new_order_id()
    delivered = client.post(
        "/events/order.created", json=cloud_event("order.created", order_created(order_id, total=12.3))
    )
    assert delivered.json() == {"status": "SUCCESS"}
    body = client.get("/payments", params={"orderId": order_id}).json()
    assert body["success"] is True
    [item] = body["data"]["items"]
    assert set(item) == {"id", "orderId", "amount", "status", "reason"}
    assert (item["orderId"], item["amount"], item["status"], item["reason"]) == (order_id, 12.3, "SUCCEEDED", None)


def test_order_without_payment_lists_nothing(client: TestClient) -> None:
    response = client.get("/payments", params={"orderId": new_order_id()})
    assert (response.status_code, response.json()["data"]) == (200, {"items": []})


@pytest.mark.parametrize("params", [{}, {"orderId": ""}])
def test_order_id_is_required(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/payments", params=params)
    assert response.status_code == 200  # inside the mesh a refusal is HTTP 200, its status in the envelope
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 422
    assert body["error"]["code"] == "VALIDATION_FAILED"


def test_the_providers_books_of_an_order_are_listed(client: TestClient) -> None:
    order_id = new_order_id()
    for _ in range(2):
        client.post("/events/order.created", json=cloud_event("order.created", order_created(order_id)))
    client.post(
        "/events/order.expired", json=cloud_event("order.expired", {"orderId": order_id, "userId": "u", "total": 42.5})
    )
    [entry] = client.get("/provider/ledger", params={"orderId": order_id}).json()["data"]["items"]
    assert entry == {
        "key": order_id,
        "status": "REFUNDED",
        "amount": 42.5,
        "reason": None,
        "captures": 1,
        "refunds": 1,
        "chargeRequests": 1,
        "cancelRequests": 1,
    }
    assert client.get("/provider/ledger", params={"orderId": new_order_id()}).json()["data"] == {"items": []}
