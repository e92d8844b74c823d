"""Cached product reads through real sidecars: MISS then HIT, a stale copy while catalog is down, a 503 for a
product never read, a stock change visible once its event reached the gateway, and the gateway's event
route closed to anyone but its own sidecar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from servicekit import new_event
from tests.e2e.conftest import NO_CACHE, Account, wait_until
from tests.e2e.test_identity_flow import assert_error
from tests.e2e.test_order_flow import Json, place
from tools.stack import Stack

BOUND_SECONDS = 15.0
"""One read while catalog is down: the gateway waits catalog's budget (6.5 s) and a little; room for a slow machine."""
EVENT_SECONDS = 45.0
"""How long an event may take to reach the gateway's sidecar and be applied."""


def read(gateway: httpx.Client, product: Json, headers: dict[str, str] | None = None) -> httpx.Response:
    started = time.monotonic()
    response = gateway.get(f"/products/{product['id']}", headers=headers)
    assert time.monotonic() - started < BOUND_SECONDS, f"a read took {time.monotonic() - started:.1f} s"
    return response


def cache_of(response: httpx.Response) -> str:
    return str(response.headers.get("X-Cache", ""))


def read_until(gateway: httpx.Client, product: Json, accept: Callable[[httpx.Response], bool], what: str) -> Any:
    return wait_until(lambda: read(gateway, product), accept, timeout=EVENT_SECONDS, what=what)


def publish_once_accepted(stack: Stack, topic: str, event_id: str, data: Json) -> None:
    """Publish through the owner's sidecar, again while the broker is not taking it yet (a test before this one
    may have just restarted it: catalog's sidecar answered 500 on kafka then); the outbox relays retry the same way."""

    def publish() -> bool:
        try:
            stack.publish(topic, event_id, data)
        except httpx.HTTPStatusError as refused:
            if refused.response.status_code < 500:
                raise
            return False
        return True

    wait_until(publish, bool, timeout=EVENT_SECONDS, what=f"{topic} accepted by the broker")


def test_a_cached_product_outlives_catalog_and_follows_its_changes(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product, never_read = make_product(stock=5), make_product(stock=5)
    first = read(gateway, product)
    assert first.status_code == 200 and cache_of(first) == "MISS", (first.status_code, first.headers, first.text)
    assert first.json()["data"]["stock"] == 5 and "stale" not in first.json()
    # The product's creation is a stock event too: once it has arrived, the copy stays fresh.
    hit = read_until(gateway, product, lambda r: cache_of(r) == "HIT", "a cached read (HIT)")
    assert hit.json()["data"] == first.json()["data"] and "stale" not in hit.json()

    stack.kill_app("catalog")  # its sidecar stays up, as catalog's own changes went out just before it died
    try:
        # What catalog published before it went down: the gateway's copy is out of date from then on.
        event = new_event({"productId": product["id"], "sku": product["sku"], "stock": 4, "change": -1})
        publish_once_accepted(
            stack, "product.stock_changed", event.event_id, event.model_dump(mode="json", by_alias=True)
        )
        stale = read_until(gateway, product, lambda r: cache_of(r) == "STALE", "the copy to be served stale")
        assert stale.status_code == 200, stale.text
        assert stale.json()["stale"] is True and stale.json()["success"] is True
        assert stale.json()["data"] == first.json()["data"], "the copy as it was kept"
        assert_error(read(gateway, product, NO_CACHE), 503)  # no-cache: catalog or nothing

        stack.stop_app("catalog")  # and its sidecar: the gateway's sidecar finds no catalog at all
        again = read(gateway, product)
        assert (again.status_code, cache_of(again), again.json().get("stale")) == (200, "STALE", True), again.text
        body = assert_error(read(gateway, never_read), 503)
        assert body["error"]["code"] in {"SERVICE_UNAVAILABLE", "UPSTREAM_TIMEOUT"}, body  # type: ignore[index]
    finally:
        stack.restart("catalog")

    # catalog is back: the out-of-date copy is read afresh (the breaker may stay open for 3 s).
    fresh = read_until(gateway, product, lambda r: cache_of(r) in {"MISS", "HIT"}, "catalog to answer again")
    assert fresh.json()["data"]["stock"] == 5 and "stale" not in fresh.json()
    read_until(gateway, product, lambda r: cache_of(r) == "HIT", "a fresh copy again")

    placed = place(gateway, account, product, 2)
    assert placed.status_code == 201, placed.text
    changed = read_until(gateway, product, lambda r: r.json()["data"]["stock"] == 3, "the change to show")
    assert cache_of(changed) == "MISS", "the first read after the change's event asks catalog"
    assert "stale" not in changed.json()
    truth = read(gateway, product, NO_CACHE)  # catalog's own count (a no-cache answer is not kept)
    assert (cache_of(truth), truth.json()["data"]["stock"]) == ("BYPASS", 3)


def test_the_gateways_event_route_answers_only_its_own_sidecar(stack: Stack, make_product: Callable[..., Json]) -> None:
    product = make_product(stock=5)
    event = new_event({"productId": product["id"], "stock": 0, "change": -5})
    delivery = {"id": event.event_id, "type": "product.stock_changed", "data": event.model_dump(mode="json")}
    gateway = stack.apps["gateway"]
    for headers in ({}, {"dapr-api-token": "guessed"}, {"dapr-api-token": gateway.dapr_token}):
        refused = httpx.post(f"{gateway.app_url}/events/product.stock_changed", json=delivery, headers=headers)
        assert_error(refused, 401, "NOT_FROM_SIDECAR")
