"""Per-client rate limiting at the public edge, in tiers read from YAML, counters shareable in Redis.

A tier's `limits` count every request; its `failures` count only the requests answered 401 (a wrong
email or password), and once one of them is reached every request of the tier is refused until it
frees. Guessing stops early, while a client that signs in right is never counted as a guesser.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from pydantic import BaseModel, Field

from servicekit import RateLimited

COUNTER_TIMEOUT_SECONDS = 0.5


class TierConfig(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    paths: list[str] = Field(min_length=1)
    limits: list[str] = Field(min_length=1)
    failures: list[str] = []


class RateLimitsFile(BaseModel):
    tiers: list[TierConfig] = Field(min_length=1)


@dataclass(frozen=True)
class Tier:
    name: str
    paths: tuple[str, ...]
    limits: tuple[RateLimitItem, ...]
    failure_limits: tuple[RateLimitItem, ...] = ()


def _items(specs: list[str]) -> tuple[RateLimitItem, ...]:
    return tuple(item for spec in specs for item in parse_many(spec))


def load_tiers(path: Path) -> list[Tier]:
    """Read and validate the tiers; a bad file stops the gateway at start-up, not at the first request."""
    config = RateLimitsFile.model_validate(yaml.safe_load(path.read_text()))
    return [Tier(t.name, tuple(t.paths), _items(t.limits), _items(t.failures)) for t in config.tiers]


class RateLimiter:
    """Count a client's hits per tier; raise RateLimited with the wait until the tightest window frees."""

    def __init__(self, tiers: list[Tier], storage: Storage) -> None:
        self.tiers = tiers
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    @classmethod
    def from_settings(cls, path: Path, storage_url: str) -> RateLimiter:
        storage = storage_from_string(_async_url(storage_url))
        assert isinstance(storage, Storage)  # the async+ scheme yields an async storage
        return cls(load_tiers(path), storage)

    def tier_for(self, path: str) -> Tier:
        for tier in self.tiers:
            if any(path.startswith(prefix) for prefix in tier.paths):
                return tier
        return self.tiers[-1]

    async def hit(self, path: str, client: str) -> None:
        """Count one request, refused once a limit or a failure limit is reached.

        A counter store that does not answer in time raises TimeoutError.
        """
        async with asyncio.timeout(COUNTER_TIMEOUT_SECONDS):
            await self._hit(path, client)

    async def count_failure(self, path: str, client: str) -> None:
        """Count one request its tier's `failures` count (one answered 401); TimeoutError as `hit`."""
        tier = self.tier_for(path)
        async with asyncio.timeout(COUNTER_TIMEOUT_SECONDS):
            for item in tier.failure_limits:
                await self.strategy.hit(item, _failures(tier), client)

    async def _hit(self, path: str, client: str) -> None:
        tier = self.tier_for(path)
        for item in tier.failure_limits:  # only looked at: `count_failure` counts them
            if not await self.strategy.test(item, _failures(tier), client):
                wait = await self._wait(item, _failures(tier), client)
                raise RateLimited(f"Too many failed attempts: the limit is {item}.", retry_after=wait)
        for item in tier.limits:
            if not await self.strategy.hit(item, tier.name, client):
                wait = await self._wait(item, tier.name, client)
                raise RateLimited(f"Too many requests: the limit is {item}.", retry_after=wait)

    async def _wait(self, item: RateLimitItem, counter: str, client: str) -> int:
        """Seconds until the window of `item` lets the client in again."""
        stats = await self.strategy.get_window_stats(item, counter, client)
        return max(1, int(stats.reset_time - time.time()) + 1)

    async def ready(self) -> None:
        if not await self.storage.check():
            raise RuntimeError("the rate-limit counter store is not reachable")


def _failures(tier: Tier) -> str:
    """The counter of a tier's failures; tier names cannot contain `:`, so it is never another tier's."""
    return f"{tier.name}:failures"


def _async_url(url: str) -> str:
    """Accept plain redis:// or memory:// URLs and pick the `limits` async flavour of each."""
    return url if url.startswith("async+") else f"async+{url}"
