"""Cached reads: answer a fresh copy, else ask the owner and keep its answer, else answer the copy marked stale.

The cache's own failure (the state store down) never fails a read: it is logged and the owner is asked.
A refusal from the owner (a 404) is an answer: it is passed on, never replaced by a copy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apps.gateway.cache.domain import (
    CachedCopy,
    CacheKey,
    CacheOutcome,
    is_fresh,
    marks_of_product_change,
    serves_stale,
)
from apps.gateway.cache.storage import Found, NoReadCache, ReadCache
from apps.gateway.errors import public_error
from servicekit import JunctionError
from servicekit.sidecar_errors import SidecarCallTimeout

log = logging.getLogger("gateway.cache")


@dataclass(frozen=True)
class CachedReads:
    """The cache behind the product reads, the clock its marks use, and how long a read waits for the owner."""

    cache: ReadCache = field(default_factory=NoReadCache)
    clock: Callable[[], float] = time.time
    owner_timeout_seconds: float = 7.0
    """A little over the owner's whole budget in the sidecar (catalog: 6.5 s, resiliency.yaml)."""


@dataclass(frozen=True)
class CachedRead:
    data: Any
    outcome: CacheOutcome

    @property
    def stale(self) -> bool:
        return self.outcome is CacheOutcome.STALE


async def read_through(
    key: CacheKey, fetch: Callable[[], Awaitable[Any]], *, reads: CachedReads, bypass: bool = False
) -> CachedRead:
    """Read `key` through the cache; `bypass` (the client's `no-cache`) neither answers nor falls back on a copy."""
    found = None if bypass else await _lookup(reads.cache, key)
    if found is not None and is_fresh(found.copy, found.changes):
        return CachedRead(found.copy.data, CacheOutcome.HIT)
    began = reads.clock()  # before the owner is asked: a change it races makes the copy out of date
    try:
        data = await _ask(fetch, reads.owner_timeout_seconds)
    except JunctionError as failure:
        if found is None or not serves_stale(failure):
            raise
        log.warning("the owner did not answer (%s); a cached copy is served stale", failure.code)
        return CachedRead(found.copy.data, CacheOutcome.STALE)
    await _keep(reads.cache, key, CachedCopy(data, began))
    return CachedRead(data, CacheOutcome.BYPASS if bypass else CacheOutcome.MISS)


async def product_changed(product_id: str, *, reads: CachedReads) -> None:
    """Make the product's copies and every page of the list out of date (kept, for the stale fallback)."""
    await reads.cache.mark_changed(marks_of_product_change(product_id), at=reads.clock())


async def _ask(fetch: Callable[[], Awaitable[Any]], timeout_seconds: float) -> Any:
    try:
        async with asyncio.timeout(timeout_seconds):
            return await fetch()
    except TimeoutError:
        raise public_error(SidecarCallTimeout("The owner did not answer in time.")) from None


async def _lookup(cache: ReadCache, key: CacheKey) -> Found | None:
    try:
        return await cache.lookup(key)
    except Exception:
        log.warning("the read cache could not be read; asking the owner", exc_info=True)
        return None


async def _keep(cache: ReadCache, key: CacheKey, copy: CachedCopy) -> None:
    try:
        await cache.keep(key, copy)
    except Exception:
        log.warning("the read cache could not keep an answer", exc_info=True)
