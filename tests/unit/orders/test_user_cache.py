"""orders' cached user check (apps.orders.peers.DaprOrderPeers.ensure_user): identity behind a fake validator,
the cache in a FakeSidecar's state, catalog's reservations behind the same sidecar.

A user confirmed within the fresh window is not asked about again; while identity does not answer (503, 504,
its breaker open, orders' own sidecar gone) a user confirmed before is accepted from the cache, logged and
counted, and any other gets the failure; a 404 or a 422 is an answer, never kept. Stock is always catalog's.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from apps.orders import service
from apps.orders.domain import Order, PlaceOrder, RequestedLine
from apps.orders.peers import DaprOrderPeers, user_key
from apps.orders.settings import OrdersSettings
from servicekit import JunctionError, NotFound, ValidationFailed
from servicekit.errors import DependencyUnavailable, ServiceUnavailable, UpstreamTimeout
from servicekit.read_cache import CachedReads, DaprStateReadCache, NoReadCache
from servicekit.read_cache.users import identity_user_reads
from servicekit.sidecar_errors import BreakerOpen, SidecarUnreachable
from tests.unit.fakes import FakeSidecar
from tests.unit.orders.fakes import Deps, FakeOrderPeers
from tests.unit.orders.helpers import order_of
from tests.unit.servicekit.helpers import sample

pytestmark = pytest.mark.anyio

FRESH_SECONDS = 300
TTL_SECONDS = 86400
DOWN = ServiceUnavailable("The identity service is unavailable.")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Identity:
    """identity's Users.ValidateUser as orders' validator reaches it; `failure` makes it not answer."""

    def __init__(self, *users: str) -> None:
        self.users = set(users)
        self.failure: JunctionError | None = None
        self.calls: list[str] = []

    async def validate(self, user_id: str) -> dict[str, Any]:
        self.calls.append(user_id)
        if self.failure is not None:
            raise self.failure
        if user_id == "not an id":
            raise ValidationFailed.for_field("userId", "The user id is not valid.")
        if user_id not in self.users:
            raise NotFound("No such user.", code="USER_NOT_FOUND")
        return {"userId": user_id, "role": "customer"}


@dataclasses.dataclass
class Orders:
    peers: DaprOrderPeers
    identity: Identity
    sidecar: FakeSidecar
    clock: Clock
    catalog: FakeOrderPeers
    """catalog's reservations, reached through the sidecar as orders reaches them."""

    def later(self, seconds: float) -> None:
        self.clock.now += seconds


@pytest.fixture
def orders() -> Orders:
    sidecar, identity, clock, catalog = FakeSidecar(), Identity("u1", "u2"), Clock(), FakeOrderPeers()

    async def reservations(method: str, path: str, body: Any, params: dict[str, Any] | None) -> Any:
        assert (method, path) == ("POST", "/reservations"), path
        lines = tuple(RequestedLine(item["productId"], item["quantity"]) for item in body["items"])
        return await catalog.reserve(body["orderId"], lines)

    sidecar.apps["catalog"] = reservations
    cache = DaprStateReadCache(sidecar, ttl_seconds=TTL_SECONDS, fill_seconds=7, store="statestore")
    reads = CachedReads(cache, name="users", owner="identity", max_age_seconds=FRESH_SECONDS, clock=clock)
    peers = DaprOrderPeers(sidecar, identity, catalog_app_id="catalog", user_reads=reads)
    return Orders(peers, identity, sidecar, clock, catalog)


def stale_count() -> float:
    return sample("junction_cached_reads_total", cache="users", outcome="stale")


async def test_a_user_confirmed_within_the_fresh_window_is_not_asked_about_again(orders: Orders) -> None:
    await orders.peers.ensure_user("u1")
    orders.later(FRESH_SECONDS - 1)
    await orders.peers.ensure_user("u1")
    assert orders.identity.calls == ["u1"]
    slot = ("statestore", user_key("u1").entry)
    assert orders.sidecar.state[slot].value["data"] == {"userId": "u1", "role": "customer"}
    assert orders.sidecar.expires[slot] - orders.sidecar.clock() == pytest.approx(TTL_SECONDS, abs=5)


async def test_after_the_fresh_window_identity_is_asked_again(orders: Orders) -> None:
    await orders.peers.ensure_user("u1")
    orders.later(FRESH_SECONDS)
    await orders.peers.ensure_user("u1")
    assert orders.identity.calls == ["u1", "u1"]


@pytest.mark.parametrize(
    "failure",
    [
        DOWN,
        UpstreamTimeout("The identity service did not answer in time."),
        BreakerOpen("The identity service is unavailable."),
        SidecarUnreachable("The identity service is not reachable."),
    ],
    ids=["unavailable", "deadline-exceeded", "breaker-open", "own-sidecar"],
)
async def test_a_user_confirmed_before_is_accepted_while_identity_does_not_answer(
    orders: Orders, failure: JunctionError, caplog: pytest.LogCaptureFixture
) -> None:
    await orders.peers.ensure_user("u1")
    orders.later(FRESH_SECONDS + 3600)
    orders.identity.failure = failure
    counted = stale_count()
    with caplog.at_level(logging.WARNING, logger="servicekit.read_cache"):
        await orders.peers.ensure_user("u1")
    assert orders.identity.calls == ["u1", "u1"], "identity was asked first"
    assert stale_count() == counted + 1
    assert any(getattr(r, "fields", {}).get("cacheKey") == user_key("u1").entry for r in caplog.records)


@pytest.mark.parametrize(
    "failure", [DOWN, UpstreamTimeout("The identity service did not answer in time.")], ids=["503", "504"]
)
async def test_a_user_never_confirmed_gets_the_failure_while_identity_does_not_answer(
    orders: Orders, failure: JunctionError
) -> None:
    orders.identity.failure = failure
    with pytest.raises(type(failure)):
        await orders.peers.ensure_user("u2")


@pytest.mark.parametrize(("user_id", "refusal"), [("nobody", NotFound), ("not an id", ValidationFailed)])
async def test_a_refusal_is_never_kept_as_valid(orders: Orders, user_id: str, refusal: type[JunctionError]) -> None:
    for _ in range(2):
        with pytest.raises(refusal):
            await orders.peers.ensure_user(user_id)
    assert orders.identity.calls == [user_id, user_id]
    assert not orders.sidecar.state
    orders.identity.failure = DOWN
    with pytest.raises(ServiceUnavailable):  # nothing was kept that could be accepted now
        await orders.peers.ensure_user(user_id)


async def test_identitys_404_for_a_user_confirmed_before_is_answered_not_the_copy(orders: Orders) -> None:
    await orders.peers.ensure_user("u1")
    orders.identity.users.discard("u1")
    orders.later(FRESH_SECONDS)
    with pytest.raises(NotFound):
        await orders.peers.ensure_user("u1")


async def test_an_order_is_placed_for_a_known_user_while_identity_is_down_and_stock_still_asks_catalog(
    orders: Orders, deps: Deps
) -> None:
    async def place(command: PlaceOrder) -> Order:
        return await service.place_order(
            command, uow=deps.uow, peers=orders.peers, clock=deps.clock, timeouts=deps.timeouts
        )

    await place(order_of("u1", quantity=1))
    orders.later(FRESH_SECONDS + 60)
    orders.identity.failure = DOWN
    placed = await place(order_of("u1", quantity=2))
    assert placed.user_id == "u1"
    assert orders.catalog.stock["p1"] == 5 - 1 - 2, "both orders reserved in catalog"
    reserved = len(orders.catalog.reservations)
    with pytest.raises(DependencyUnavailable):
        await place(order_of("u2", key=uuid.uuid4().hex))
    assert len(orders.catalog.reservations) == reserved, "an unknown user's order reserves nothing"


async def test_the_settings_give_five_minutes_fresh_a_day_kept_and_0_turns_the_cache_off() -> None:
    reads = identity_user_reads(OrdersSettings(), FakeSidecar())
    assert (reads.max_age_seconds, reads.owner, reads.owner_timeout_seconds, reads.name) == (
        300,
        "identity",
        None,
        "users",
    )
    assert isinstance(reads.cache, DaprStateReadCache) and reads.cache.ttl_seconds == 86400
    assert isinstance(identity_user_reads(OrdersSettings(user_cache_ttl_seconds=0), FakeSidecar()).cache, NoReadCache)
    assert reads.io_timeout_seconds == 0.5
    assert (
        identity_user_reads(OrdersSettings(read_cache_io_timeout_seconds=0.2), FakeSidecar()).io_timeout_seconds == 0.2
    )
    with pytest.raises(ValidationError):
        OrdersSettings(read_cache_io_timeout_seconds=0)
