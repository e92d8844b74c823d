"""catalog's state outbox across a crash: a stock event staged with its reservation arrives once.

catalog keeps servicekit's state outbox (Dapr's does not fit its transactions: tests/e2e/test_dapr_outbox.py).
Where the broker is a server of its own (every profile but `redis`, whose one redis-server also holds the
state), the broker is killed first, so the reservation commits while its event cannot leave; then catalog
and its sidecar are SIGKILLed with the event still staged, and started again with the broker back.
Exactly two stock events of the product must ever be published (its creation and the reservation; a
relay that staged the event again under a new id would show a third), and analytics must apply both.
analytics' counts are platform-wide (an order of an earlier test expiring now moves them too), so the
test follows the product's own events through the probe subscriber and analytics' applied-event markers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import yaml

from tests.e2e.conftest import NO_CACHE, event_counts, wait_until
from tests.e2e.test_order_flow import Json
from tools.stack import Stack
from tools.stack.stack import ROOT
from tools.stack.stores import state_documents, state_items

TOPIC = "product.stock_changed"
DUPLICATE_WINDOW_SECONDS = 8.0  # longer than two relay intervals: a second publish would arrive by then


def _broker_holds_state(stack: Stack) -> bool:
    """Whether killing the broker takes the state store down too (the `redis` profile's one server)."""
    store = yaml.safe_load((ROOT / "components" / stack.profile / "statestore.yaml").read_text())
    return bool(store["spec"]["type"] == "state.redis" and stack.servers.broker == "redis")


def _staged_for(stack: Stack, order_id: str) -> list[str]:
    """The topics of catalog's staged outbox entries caused by this order."""
    shards = state_documents(stack, "catalog", "outbox:").values()
    entries = [entry for shard in shards for entry in shard.get("pending", [])]
    return [entry["topic"] for entry in entries if entry["event"]["payload"].get("orderId") == order_id]


def _published_for(stack: Stack, product_id: str) -> set[str]:
    """The distinct ids of the product's stock events that reached the probe subscriber."""
    received = httpx.get(f"{stack.apps['probe'].app_url}/received", timeout=5).json()
    return {
        r["event"]["data"]["eventId"]
        for r in received
        if r["topic"] == TOPIC and r["event"].get("data", {}).get("payload", {}).get("productId") == product_id
    }


def _applied_by_analytics(stack: Stack, event_ids: set[str]) -> bool:
    return all(state_items(stack, "analytics", f"applied:{event_id}") for event_id in event_ids)


def _reserve(stack: Stack, order_id: str, product: Json) -> httpx.Response:
    """Reserve through catalog's own edge: the call orders' sidecar would deliver."""
    catalog = stack.apps["catalog"]
    body = {"orderId": order_id, "items": [{"productId": product["id"], "quantity": 1}]}
    headers = {"dapr-api-token": catalog.app_token}
    return httpx.post(f"{catalog.app_url}/reservations", json=body, headers=headers, timeout=30)


def test_a_stock_event_staged_when_catalog_dies_arrives_once(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str], make_product: Callable[..., Json]
) -> None:
    def counted() -> int:
        return event_counts(gateway, admin_auth).get(TOPIC, 0)

    before = counted()
    product = make_product(stock=5)
    broker_apart = not _broker_holds_state(stack)
    if broker_apart:
        stack.kill_broker()
    try:
        order_id = uuid.uuid4().hex
        answer = _reserve(stack, order_id, product)
        assert answer.status_code == 201, answer.text
        stack.kill_both("catalog")  # SIGKILL: the relay's pass and whatever it held in memory are gone
        if broker_apart:
            assert _staged_for(stack, order_id) == [TOPIC], "the event is committed with the reservation, unsent"
    finally:
        if broker_apart:
            stack.start_broker()
    stack.restart("catalog")

    published = wait_until(
        lambda: _published_for(stack, product["id"]),
        lambda ids: len(ids) >= 2,
        timeout=120,
        what="the product's created and reserved events to be published",
    )
    wait_until(
        lambda: _applied_by_analytics(stack, published),
        bool,
        timeout=60,
        what="analytics to apply both stock events",
    )
    assert counted() >= before + 2
    deadline = time.monotonic() + DUPLICATE_WINDOW_SECONDS
    while time.monotonic() < deadline:  # a second publish under a new id would show up here
        assert _published_for(stack, product["id"]) == published, "each stock event is published under one id"
        time.sleep(0.5)
    assert len(published) == 2
    stock = gateway.get(f"/products/{product['id']}", headers=NO_CACHE).json()["data"]["stock"]
    assert stock == 4, "the reservation committed once"
