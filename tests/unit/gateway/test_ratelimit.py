"""Rate-limit tiers from YAML, and the limiter that counts each client per tier in `limits` memory storage."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from limits.aio.storage import MemoryStorage
from pydantic import ValidationError

from apps.gateway.edge.ratelimit import RateLimiter, load_tiers
from apps.gateway.settings import GatewaySettings
from servicekit import RateLimited
from tests.unit.gateway.helpers import LimiterOf

pytestmark = pytest.mark.anyio

TIERS_YAML = """
tiers:
  - name: auth
    paths: [/api/v1/auth/]
    limits: ["2/hour"]
  - name: payments
    paths: [/api/v1/payments, /api/v1/orders]
    limits: ["5/hour; 1/minute"]
  - name: default
    paths: [/]
    limits: ["3 per 1 hour"]
"""


@pytest.fixture
def tiers_file(tmp_path: Path) -> Path:
    path = tmp_path / "ratelimits.yaml"
    path.write_text(TIERS_YAML)
    return path


def client() -> str:
    return f"addr:{uuid.uuid4().hex}"


async def hits_allowed(limiter: RateLimiter, path: str, who: str, *, attempts: int = 10) -> int:
    """Hit until refused; return how many hits were allowed."""
    for allowed in range(attempts):
        try:
            await limiter.hit(path, who)
        except RateLimited:
            return allowed
    return attempts


def test_load_tiers_reads_names_paths_and_limits(tiers_file: Path) -> None:
    tiers = load_tiers(tiers_file)
    assert [t.name for t in tiers] == ["auth", "payments", "default"]
    assert tiers[1].paths == ("/api/v1/payments", "/api/v1/orders")
    assert [(i.amount, i.get_expiry()) for i in tiers[0].limits] == [(2, 3600)]
    assert [(i.amount, i.get_expiry()) for i in tiers[1].limits] == [(5, 3600), (1, 60)]
    assert [(i.amount, i.get_expiry()) for i in tiers[2].limits] == [(3, 3600)]


@pytest.mark.parametrize(
    "text",
    [
        "tiers: []",
        "tiers:\n  - name: Bad Name\n    paths: [/]\n    limits: ['1/second']",
        "tiers:\n  - name: ok\n    paths: []\n    limits: ['1/second']",
        "tiers:\n  - name: ok\n    paths: [/]\n    limits: []",
        "something: else",
    ],
)
def test_load_tiers_refuses_a_bad_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError):
        load_tiers(path)


def test_shipped_tiers_file_loads() -> None:
    tiers = load_tiers(GatewaySettings.model_fields["rate_limits_file"].default)
    assert tiers[-1].paths == ("/",)
    assert all(t.limits for t in tiers)


def test_tier_is_chosen_by_path_prefix_in_order(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(TIERS_YAML)
    assert limiter.tier_for("/api/v1/auth/login").name == "auth"
    assert limiter.tier_for("/api/v1/orders/o-1").name == "payments"
    assert limiter.tier_for("/api/v1/payments").name == "payments"
    assert limiter.tier_for("/api/v1/users/me").name == "default"
    assert limiter.tier_for("/api/v1/auth").name == "default"


async def test_hits_past_the_limit_are_rate_limited(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(TIERS_YAML)
    who = client()
    await limiter.hit("/api/v1/auth/login", who)
    await limiter.hit("/api/v1/auth/register", who)
    with pytest.raises(RateLimited) as caught:
        await limiter.hit("/api/v1/auth/login", who)
    assert caught.value.status == 429
    assert caught.value.code == "RATE_LIMITED"
    assert caught.value.retry_after >= 1
    assert caught.value.details == {"retryAfter": caught.value.retry_after}
    assert "2 per 1 hour" in caught.value.message


async def test_clients_are_counted_separately(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(TIERS_YAML)
    first, second = client(), client()
    assert await hits_allowed(limiter, "/api/v1/auth/login", first) == 2
    assert await hits_allowed(limiter, "/api/v1/auth/login", second) == 2


async def test_tiers_are_counted_separately(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(TIERS_YAML)
    who = client()
    assert await hits_allowed(limiter, "/api/v1/auth/login", who) == 2
    assert await hits_allowed(limiter, "/api/v1/users/me", who) == 3
    assert await hits_allowed(limiter, "/api/v1/orders", who) == 1


async def test_tightest_limit_of_a_tier_applies(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(TIERS_YAML)
    who = client()
    await limiter.hit("/api/v1/payments", who)
    with pytest.raises(RateLimited, match="1 per 1 minute"):
        await limiter.hit("/api/v1/payments", who)


class UnreachableStorage(MemoryStorage):
    async def check(self) -> bool:
        return False


async def test_readiness_follows_the_counter_store(tiers_file: Path) -> None:
    await RateLimiter(load_tiers(tiers_file), MemoryStorage()).ready()
    with pytest.raises(RuntimeError, match="not reachable"):
        await RateLimiter(load_tiers(tiers_file), UnreachableStorage()).ready()


FAILURES_YAML = """
tiers:
  - name: login
    paths: [/api/v1/auth/login]
    limits: ["100/hour"]
    failures: ["3/hour"]
  - name: default
    paths: [/]
    limits: ["100/hour"]
"""


@pytest.fixture
def failures_file(tmp_path: Path) -> Path:
    path = tmp_path / "failures.yaml"
    path.write_text(FAILURES_YAML)
    return path


def test_load_tiers_reads_failure_limits(failures_file: Path) -> None:
    login, default = load_tiers(failures_file)
    assert [(i.amount, i.get_expiry()) for i in login.failure_limits] == [(3, 3600)]
    assert default.failure_limits == ()


async def test_only_counted_failures_use_up_a_failure_limit(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(FAILURES_YAML)
    who, other = client(), client()
    assert await hits_allowed(limiter, "/api/v1/auth/login", who, attempts=10) == 10  # successes: uncounted
    for _ in range(3):
        await limiter.count_failure("/api/v1/auth/login", who)
    with pytest.raises(RateLimited, match="failed attempts: the limit is 3 per 1 hour") as caught:
        await limiter.hit("/api/v1/auth/login", who)
    assert caught.value.retry_after >= 1
    assert await hits_allowed(limiter, "/api/v1/auth/login", other) == 10
    assert await hits_allowed(limiter, "/api/v1/users/me", who) == 10  # another tier


async def test_failures_of_a_tier_without_failure_limits_are_not_counted(limiter_of: LimiterOf) -> None:
    limiter = limiter_of(TIERS_YAML)
    who = client()
    for _ in range(5):
        await limiter.count_failure("/api/v1/users/me", who)
    assert await hits_allowed(limiter, "/api/v1/users/me", who) == 3
