"""GET /users/me through the gateway's profile cache, on fakes: identity's user lookup behind a fake, the cache in
a FakeSidecar's state. HIT within the fresh window, MISS after it, STALE (`stale: true`) when identity does not
answer, a 503/504 for a user never read, a 404 passed on and never kept, `no-cache`, and how settings build it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from apps.gateway.cache import product_reads, profile_key
from apps.gateway.errors import FAILURE_MESSAGE
from apps.gateway.main import create_app
from apps.gateway.peers import Peers
from apps.gateway.settings import GatewaySettings
from servicekit import JunctionError, NotFound
from servicekit.errors import ServiceUnavailable, UpstreamTimeout
from servicekit.read_cache import CachedReads, DaprStateReadCache, NoReadCache
from servicekit.read_cache.users import identity_user_reads
from servicekit.sidecar_errors import BreakerOpen
from tests.unit.fakes import FakeSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, bearer, services

FRESH_SECONDS = 300
TTL_SECONDS = 86400


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Identity:
    """identity's Users.GetUser as the gateway's lookup reaches it; `failure` makes it not answer."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.failure: JunctionError | None = None
        self.calls = 0

    def add(self, name: str = "Ada") -> dict[str, Any]:
        user = {"id": uuid.uuid4().hex, "email": f"{name.lower()}@example.com", "name": name, "role": "customer"}
        self.users[user["id"]] = user
        return user

    async def profile(self, user_id: str) -> dict[str, Any]:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        if user_id not in self.users:
            raise NotFound("No such user.", code="USER_NOT_FOUND")
        return dict(self.users[user_id])


@dataclasses.dataclass
class Gateway:
    client: TestClient
    identity: Identity
    sidecar: FakeSidecar
    clock: Clock

    def me(self, user: dict[str, Any], **headers: str) -> Any:
        return self.client.get("/api/v1/users/me", headers={**bearer(subject=user["id"]), **headers})

    def later(self, seconds: float) -> None:
        self.clock.now += seconds


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    sidecar, identity, clock = FakeSidecar(), Identity(), Clock()
    cache = DaprStateReadCache(sidecar, ttl_seconds=TTL_SECONDS, fill_seconds=7)
    reads = CachedReads(cache, name="users", owner="identity", max_age_seconds=FRESH_SECONDS, clock=clock)
    peers = Peers(sidecar, APPS, (), users=identity)
    served = dataclasses.replace(services(tokens=TOKENS, peers=peers), profiles=reads)
    with TestClient(create_app(GatewaySettings(), services=served)) as client:
        yield Gateway(client, identity, sidecar, clock)


def answered(response: Any, cache: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["X-Cache"] == cache
    body: dict[str, Any] = response.json()
    assert body["success"] is True
    assert body.get("stale") is (True if cache == "STALE" else None)
    return body


def test_a_profile_read_within_the_fresh_window_asks_identity_once(gateway: Gateway) -> None:
    ada = gateway.identity.add()
    assert answered(gateway.me(ada), "MISS")["data"] == ada
    gateway.later(FRESH_SECONDS - 1)
    assert answered(gateway.me(ada), "HIT")["data"] == ada
    assert gateway.identity.calls == 1
    slot = ("statestore", profile_key(ada["id"]).entry)
    assert gateway.sidecar.state[slot].value["data"] == ada
    assert gateway.sidecar.expires[slot] - gateway.sidecar.clock() == pytest.approx(TTL_SECONDS, abs=5)


def test_after_the_fresh_window_identity_is_asked_again(gateway: Gateway) -> None:
    ada = gateway.identity.add()
    gateway.me(ada)
    gateway.identity.users[ada["id"]]["name"] = "Ada L."
    gateway.later(FRESH_SECONDS)
    assert answered(gateway.me(ada), "MISS")["data"]["name"] == "Ada L."
    assert answered(gateway.me(ada), "HIT")["data"]["name"] == "Ada L."


def test_each_caller_gets_their_own_profile(gateway: Gateway) -> None:
    ada, bob = gateway.identity.add("Ada"), gateway.identity.add("Bob")
    assert answered(gateway.me(ada), "MISS")["data"] == ada
    assert answered(gateway.me(bob), "MISS")["data"] == bob
    assert answered(gateway.me(ada), "HIT")["data"] == ada


@pytest.mark.parametrize(
    "failure",
    [
        ServiceUnavailable("The identity service is unavailable."),
        UpstreamTimeout("The identity service did not answer in time."),
        BreakerOpen("The identity service is unavailable."),
    ],
    ids=["503", "504", "breaker-open"],
)
def test_a_kept_profile_answers_stale_while_identity_does_not(gateway: Gateway, failure: JunctionError) -> None:
    ada = gateway.identity.add()
    gateway.me(ada)
    gateway.identity.failure = failure
    assert answered(gateway.me(ada), "HIT")["data"] == ada, "within the window identity is not asked"
    gateway.later(FRESH_SECONDS + 3600)
    assert answered(gateway.me(ada), "STALE")["data"] == ada
    assert gateway.identity.calls == 2


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (ServiceUnavailable("The identity service is unavailable."), 503, "SERVICE_UNAVAILABLE"),
        (UpstreamTimeout("The identity service did not answer in time."), 504, "UPSTREAM_TIMEOUT"),
    ],
    ids=["503", "504"],
)
def test_a_profile_never_read_is_the_failure_while_identity_does_not_answer(
    gateway: Gateway, failure: JunctionError, status: int, code: str
) -> None:
    gateway.identity.failure = failure
    response = gateway.me(gateway.identity.add())
    assert response.status_code == status, response.text
    assert response.json()["error"] == {"code": code, "message": FAILURE_MESSAGE}
    assert "X-Cache" not in response.headers


def test_a_user_identity_does_not_know_is_a_404_never_kept(gateway: Gateway) -> None:
    stranger = {"id": uuid.uuid4().hex}
    for _ in range(2):
        response = gateway.me(stranger)
        assert response.status_code == 404 and response.json()["error"]["code"] == "USER_NOT_FOUND"
    assert gateway.identity.calls == 2
    assert not gateway.sidecar.state


def test_no_cache_asks_identity_keeps_nothing_and_never_falls_back(gateway: Gateway) -> None:
    ada = gateway.identity.add()
    assert answered(gateway.me(ada, **{"Cache-Control": "no-cache"}), "BYPASS")["data"]["name"] == "Ada"
    assert not gateway.sidecar.state, "a no-cache read writes nothing"
    gateway.me(ada)
    gateway.identity.users[ada["id"]]["name"] = "Ada L."
    assert answered(gateway.me(ada, **{"Cache-Control": "no-cache"}), "BYPASS")["data"]["name"] == "Ada L."
    assert answered(gateway.me(ada), "HIT")["data"]["name"] == "Ada", "the kept copy stays as it was"
    gateway.identity.failure = ServiceUnavailable("The identity service is unavailable.")
    assert gateway.me(ada, **{"Cache-Control": "no-cache"}).status_code == 503


def test_without_a_token_nothing_is_read(gateway: Gateway) -> None:
    assert gateway.client.get("/api/v1/users/me").status_code == 401
    assert gateway.identity.calls == 0


def test_the_openapi_document_names_x_cache_on_users_me(gateway: Gateway) -> None:
    document = gateway.client.app.openapi()  # type: ignore[attr-defined]
    headers = document["paths"]["/api/v1/users/me"]["get"]["responses"]["200"]["headers"]
    assert headers["X-Cache"]["schema"]["enum"] == ["HIT", "MISS", "STALE", "BYPASS"]
    assert "identity" in headers["X-Cache"]["description"]
    assert "stale" in document["components"]["schemas"]["Envelope_UserRead_"]["properties"]


def test_the_settings_give_the_fresh_window_and_the_ttl_and_0_turns_the_cache_off() -> None:
    reads = identity_user_reads(GatewaySettings(), FakeSidecar())
    assert (reads.max_age_seconds, reads.owner, reads.owner_timeout_seconds) == (300, "identity", None)
    assert reads.io_timeout_seconds == 0.5
    quick = GatewaySettings(read_cache_io_timeout_seconds=0.2)
    assert (
        identity_user_reads(quick, FakeSidecar()).io_timeout_seconds,
        product_reads(quick, FakeSidecar()).io_timeout_seconds,
    ) == (
        0.2,
        0.2,
    )
    with pytest.raises(ValidationError):
        GatewaySettings(read_cache_io_timeout_seconds=0)
    assert isinstance(reads.cache, DaprStateReadCache) and reads.cache.ttl_seconds == 86400
    assert isinstance(identity_user_reads(GatewaySettings(user_cache_ttl_seconds=0), FakeSidecar()).cache, NoReadCache)
