"""The gateway's cached product reads, through its app on fakes: catalog behind a FakeSidecar, the cache in it.

HIT, MISS, STALE when catalog does not answer, 404 passed on and never cached, the cache's own failure
ignored, `Cache-Control: no-cache`, the stock events that make copies out of date, and who may deliver them.
The cache itself (marks, shapes, the metric) is tested in tests/unit/servicekit/test_read_cache.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.gateway.cache import product_changed, product_key
from apps.gateway.main import create_app
from apps.gateway.peers import Peers
from apps.gateway.settings import GatewaySettings
from servicekit import EventEnvelope, JunctionError, NotFound, StateItem, new_event
from servicekit.errors import ServiceUnavailable, UpstreamTimeout
from servicekit.read_cache import CachedReads, DaprStateReadCache
from servicekit.sidecar import StateOp
from servicekit.sidecar_errors import BreakerOpen, SidecarCallTimeout, StateUnavailable
from tests.unit.fakes import FakeSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, services

APP_TOKEN = "gateway-app-token-" + "x" * 16
SIDECAR = {"dapr-api-token": APP_TOKEN}
NO_CACHE = {"Cache-Control": "no-cache"}
TIMEOUT_SECONDS = 0.2


class Tick:
    """A clock that moves one second at every look, so every read and every mark has its own moment."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def delivery(event: EventEnvelope) -> dict[str, Any]:
    """The CloudEvent the gateway's sidecar delivers for a `product.stock_changed` event."""
    return {"id": event.event_id, "type": "product.stock_changed", "data": event.model_dump(mode="json", by_alias=True)}


class Catalog:
    """catalog's product reads, as the gateway's sidecar reaches them; `failure` makes it not answer."""

    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self.failure: JunctionError | None = None
        self.delay_seconds = 0.0
        self.during_call: Any = None
        """An awaitable factory run while a call is in flight (a change racing the read)."""

    def add(self, stock: int = 5) -> dict[str, Any]:
        product: dict[str, Any] = {"id": uuid.uuid4().hex, "sku": "SKU-1", "name": "Tea", "price": 2.5, "stock": stock}
        self.products[product["id"]] = product
        return product

    async def __call__(self, method: str, path: str, body: Any, params: dict[str, Any] | None) -> Any:
        self.calls += 1
        if self.during_call is not None:
            await self.during_call()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.failure is not None:
            raise self.failure
        if path == "/products":
            limit, offset = int((params or {})["limit"]), int((params or {})["offset"])
            items = list(self.products.values())
            return {"items": [dict(p) for p in items[offset : offset + limit]], "total": len(items)}
        product_id = path.rsplit("/", 1)[1]
        if product_id not in self.products:
            raise NotFound("No such product.", code="PRODUCT_NOT_FOUND")
        return dict(self.products[product_id])


class BrokenStore(FakeSidecar):
    """A sidecar whose state store fails every call."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        raise StateUnavailable("Reading state failed.")

    async def save_state(
        self, key: str, value: Any, *, etag: str | None = None, store: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        raise StateUnavailable("Saving state failed.")

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        raise StateUnavailable("Saving state failed.")


@dataclasses.dataclass
class Gateway:
    client: TestClient
    catalog: Catalog
    sidecar: FakeSidecar
    reads: CachedReads

    def product(self, product_id: str, **headers: str) -> Any:
        return self.client.get(f"/api/v1/products/{product_id}", headers=headers)

    def products(self, **headers: str) -> Any:
        return self.client.get("/api/v1/products", params={"limit": 20, "offset": 0}, headers=headers)

    def stock_changed(self, product_id: str, headers: dict[str, str] | None = None) -> Any:
        event = new_event({"productId": product_id, "stock": 1, "change": -1, "reason": "reserved"})
        sent = SIDECAR if headers is None else headers
        return self.client.post("/events/product.stock_changed", json=delivery(event), headers=sent)


def build(*, store: FakeSidecar | None = None, settings: GatewaySettings | None = None) -> Iterator[Gateway]:
    sidecar, catalog = FakeSidecar(), Catalog()
    sidecar.apps["catalog"] = catalog
    cache = DaprStateReadCache(store or sidecar, ttl_seconds=300, fill_seconds=TIMEOUT_SECONDS)
    reads = CachedReads(cache=cache, clock=Tick(), owner_timeout_seconds=TIMEOUT_SECONDS)
    served = dataclasses.replace(services(tokens=TOKENS, peers=Peers(sidecar, APPS, ())), reads=reads)
    app = create_app(settings or GatewaySettings(app_api_token=APP_TOKEN), services=served)
    with TestClient(app) as client:
        yield Gateway(client, catalog, sidecar, reads)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    yield from build()


def answered(response: Any, cache: str, *, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["X-Cache"] == cache
    body: dict[str, Any] = response.json()
    assert body["success"] is True
    assert body.get("stale") is (True if cache == "STALE" else None)
    return body


# ---- hit and miss ------------------------------------------------------------------------------------
def test_a_first_read_is_a_miss_and_the_next_a_hit_that_asks_catalog_nothing(gateway: Gateway) -> None:
    product = gateway.catalog.add(stock=5)
    assert answered(gateway.product(product["id"]), "MISS")["data"] == product
    assert answered(gateway.product(product["id"]), "HIT")["data"] == product
    assert answered(gateway.products(), "MISS")["data"] == {"items": [product], "total": 1}
    assert answered(gateway.products(), "HIT")["data"]["total"] == 1
    assert gateway.catalog.calls == 2


def test_copies_are_kept_with_the_ttl_in_the_gateways_own_state(gateway: Gateway) -> None:
    product = gateway.catalog.add()
    gateway.product(product["id"])
    slot = ("statestore", product_key(product["id"]).entry)
    assert gateway.sidecar.state[slot].value["data"] == product
    assert gateway.sidecar.expires[slot] - gateway.sidecar.clock() == pytest.approx(300, abs=5)


# ---- stale ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        ServiceUnavailable("The catalog service is unavailable."),
        UpstreamTimeout("The catalog service did not answer in time."),
        BreakerOpen("failed to invoke, id: catalog, err: circuit breaker is open"),
        SidecarCallTimeout("The catalog service did not answer in time."),
    ],
    ids=["503", "504", "breaker-open", "sidecar-timeout"],
)
def test_an_out_of_date_copy_answers_stale_when_catalog_does_not(gateway: Gateway, failure: JunctionError) -> None:
    product = gateway.catalog.add(stock=5)
    gateway.product(product["id"])
    gateway.products()
    assert gateway.stock_changed(product["id"]).json() == {"status": "SUCCESS"}
    gateway.catalog.failure = failure
    assert answered(gateway.product(product["id"]), "STALE")["data"] == product
    assert answered(gateway.products(), "STALE")["data"]["items"] == [product]


def test_a_catalog_slower_than_its_budget_is_answered_by_the_copy(gateway: Gateway) -> None:
    product = gateway.catalog.add()
    gateway.product(product["id"])
    gateway.stock_changed(product["id"])
    gateway.catalog.delay_seconds = TIMEOUT_SECONDS * 10
    assert answered(gateway.product(product["id"]), "STALE")["data"] == product


def test_with_no_copy_a_catalog_that_does_not_answer_is_a_503(gateway: Gateway) -> None:
    gateway.catalog.failure = ServiceUnavailable("The catalog service is unavailable.")
    for response in (gateway.product("never-read"), gateway.products()):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "X-Cache" not in response.headers


def test_with_no_copy_a_catalog_slower_than_its_budget_is_a_503(gateway: Gateway) -> None:
    gateway.catalog.delay_seconds = TIMEOUT_SECONDS * 10
    response = gateway.product("never-read")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "UPSTREAM_TIMEOUT"


def test_a_copy_expires_with_its_ttl(gateway: Gateway) -> None:
    product = gateway.catalog.add()
    gateway.product(product["id"])
    gateway.sidecar.clock = lambda: 10**9  # far past every TTL
    gateway.catalog.failure = ServiceUnavailable("The catalog service is unavailable.")
    assert gateway.product(product["id"]).status_code == 503


# ---- refusals ------------------------------------------------------------------------------------------
def test_a_404_is_passed_on_and_never_cached(gateway: Gateway) -> None:
    missing = uuid.uuid4().hex
    assert gateway.product(missing).status_code == 404
    assert gateway.product(missing).status_code == 404
    assert gateway.catalog.calls == 2
    assert not any(key.startswith("product:") for _, key in gateway.sidecar.state)


def test_a_404_is_answered_even_when_an_out_of_date_copy_exists(gateway: Gateway) -> None:
    product = gateway.catalog.add()
    gateway.product(product["id"])
    gateway.stock_changed(product["id"])
    del gateway.catalog.products[product["id"]]
    response = gateway.product(product["id"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "PRODUCT_NOT_FOUND"


# ---- the cache's own failure -----------------------------------------------------------------------------
def test_a_failing_cache_never_fails_a_read() -> None:
    for gateway in build(store=BrokenStore()):
        product = gateway.catalog.add()
        assert answered(gateway.product(product["id"]), "MISS")["data"] == product
        assert answered(gateway.product(product["id"]), "MISS")["data"] == product
        assert answered(gateway.products(), "MISS")["data"]["total"] == 1
        assert gateway.catalog.calls == 3
        gateway.catalog.failure = ServiceUnavailable("The catalog service is unavailable.")
        assert gateway.product(product["id"]).status_code == 503


def test_a_failing_cache_retries_the_event_rather_than_lose_the_change() -> None:
    for gateway in build(store=BrokenStore()):
        assert gateway.stock_changed("p-1").json() == {"status": "RETRY"}


# ---- no-cache --------------------------------------------------------------------------------------------
def test_no_cache_asks_catalog_keeps_nothing_and_never_falls_back(gateway: Gateway) -> None:
    product = gateway.catalog.add(stock=5)
    for _ in range(3):
        assert answered(gateway.product(product["id"], **NO_CACHE), "BYPASS")["data"]["stock"] == 5
    assert not gateway.sidecar.state, "an anonymous client's no-cache never makes the gateway write its state"
    gateway.product(product["id"])
    gateway.catalog.products[product["id"]]["stock"] = 4
    assert answered(gateway.product(product["id"], **NO_CACHE), "BYPASS")["data"]["stock"] == 4
    assert answered(gateway.product(product["id"]), "HIT")["data"]["stock"] == 5, "the kept copy stays as it was"
    gateway.catalog.failure = ServiceUnavailable("The catalog service is unavailable.")
    assert gateway.product(product["id"], **{"Cache-Control": "max-age=0, No-Cache"}).status_code == 503


# ---- invalidation by events ----------------------------------------------------------------------------
def test_a_stock_event_makes_that_product_and_every_page_out_of_date_and_no_other_product(gateway: Gateway) -> None:
    changed, other = gateway.catalog.add(stock=5), gateway.catalog.add(stock=7)
    for product in (changed, other):
        gateway.product(product["id"])
    gateway.products()
    gateway.catalog.products[changed["id"]]["stock"] = 3
    assert gateway.stock_changed(changed["id"]).json() == {"status": "SUCCESS"}
    assert answered(gateway.product(changed["id"]), "MISS")["data"]["stock"] == 3
    assert answered(gateway.product(other["id"]), "HIT")["data"]["stock"] == 7
    assert answered(gateway.products(), "MISS")["data"]["items"][0]["stock"] == 3
    assert answered(gateway.product(changed["id"]), "HIT")["data"]["stock"] == 3


def test_a_fill_that_races_a_change_is_never_fresh(gateway: Gateway) -> None:
    product = gateway.catalog.add()

    async def change_meanwhile() -> None:
        gateway.catalog.during_call = None
        await product_changed(product["id"], reads=gateway.reads)

    gateway.catalog.during_call = change_meanwhile
    assert answered(gateway.product(product["id"]), "MISS")
    assert answered(gateway.product(product["id"]), "MISS"), "the copy began before the change: out of date"
    assert answered(gateway.product(product["id"]), "HIT")


def test_an_unreadable_stock_event_is_dropped(gateway: Gateway) -> None:
    event = new_event({"stock": 1})  # no productId
    answer = gateway.client.post("/events/product.stock_changed", json=delivery(event), headers=SIDECAR)
    assert answer.json() == {"status": "DROP"}


# ---- who may deliver -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"dapr-api-token": "guessed"}, {"dapr-api-token": APP_TOKEN[:-1]}],
    ids=["none", "wrong", "almost"],
)
def test_an_outside_post_to_the_event_route_is_refused(gateway: Gateway, headers: dict[str, str]) -> None:
    product = gateway.catalog.add()
    gateway.product(product["id"])
    for path in ("/events/product.stock_changed", "/events/replays.gateway", "/events/anything"):
        refused = gateway.client.post(path, json={}, headers=headers)
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["error"]["code"] == "NOT_FROM_SIDECAR"
    assert gateway.stock_changed(product["id"], headers=headers).status_code == 401
    assert answered(gateway.product(product["id"]), "HIT"), "nothing was marked"


def test_without_an_app_token_no_delivery_is_accepted_and_the_public_api_stays_open() -> None:
    for gateway in build(settings=GatewaySettings()):
        assert gateway.stock_changed("p-1", headers={"dapr-api-token": ""}).status_code == 401
        assert gateway.stock_changed("p-1", headers={}).status_code == 401
        assert gateway.products().status_code == 200


def test_the_public_api_needs_no_sidecar_token(gateway: Gateway) -> None:
    assert gateway.products().status_code == 200
    assert gateway.client.get("/healthz").status_code == 200


# ---- what the OpenAPI document says -------------------------------------------------------------------------
def test_the_openapi_document_names_x_cache_and_the_stale_field(gateway: Gateway) -> None:
    document = gateway.client.app.openapi()  # type: ignore[attr-defined]
    for path in ("/api/v1/products", "/api/v1/products/{product_id}"):
        headers = document["paths"][path]["get"]["responses"]["200"]["headers"]
        assert headers["X-Cache"]["schema"]["enum"] == ["HIT", "MISS", "STALE", "BYPASS"]
    envelope = document["components"]["schemas"]["Envelope_ProductRead_"]
    assert "stale" in envelope["properties"] and "stale" not in envelope.get("required", [])
