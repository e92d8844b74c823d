"""Cached reads: answer a fresh copy, else ask the owner and keep its answer, else answer the copy marked stale.

The cache's own failure never fails a read, nor holds it: a lookup or a keep that fails (the kit's error)
or takes longer than `io_timeout_seconds` (a hung state store) is logged, counted
(`junction_read_cache_failures_total`) and read as "no copy" or "not kept". Any other exception is a bug
and is raised. A refusal from the owner (a 404, a 422) is an answer: it is passed on, never kept and never
replaced by a copy. Every answer is counted by outcome (`junction_cached_reads_total`), a stale one logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from servicekit.errors import JunctionError
from servicekit.metrics import CACHED_READS, READ_CACHE_FAILURES
from servicekit.read_cache.domain import CachedCopy, CacheKey, CacheOutcome, fresh_seconds, is_fresh, serves_stale
from servicekit.read_cache.storage import Found, NoReadCache, ReadCache
from servicekit.sidecar_errors import SidecarCallTimeout

log = logging.getLogger("servicekit.read_cache")
DEFAULT_IO_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class CachedReads:
    """One kind of read through a cache: where copies are kept, how long one is fresh, how long the owner may take."""

    cache: ReadCache = field(default_factory=NoReadCache)
    name: str = "reads"
    """What is cached (`products`, `users`): the metric's `cache` label, and the logs'."""
    owner: str = "owner"
    """The app the reads ask (its app id), for messages and logs."""
    max_age_seconds: float | None = None
    """A copy older than this is out of date though no change was recorded; None: only change marks date it."""
    owner_timeout_seconds: float | None = None
    """How long a read waits for the owner before a copy answers stale; None: the fetch's own deadline bounds it."""
    io_timeout_seconds: float = DEFAULT_IO_TIMEOUT_SECONDS
    """How long a lookup, and a keep, may take in the store; past it the read goes on as if there were no copy."""
    clock: Callable[[], float] = time.time


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
    """Read `key` through the cache; `bypass` (the client's `no-cache`) neither answers, keeps nor falls back on a copy.

    `fetch` asks the owner and raises the kit's error when it fails; a 5xx then answers a kept copy, if any.
    """
    began = reads.clock()  # before the owner is asked: a change it races makes the copy out of date
    found = None if bypass else await _lookup(reads, key)
    fresh_for = fresh_seconds(reads.cache.ttl_seconds, reads.max_age_seconds)
    if found is not None and is_fresh(found.copy, found.changes, now=began, fresh_seconds=fresh_for):
        return _counted(reads, CachedRead(found.copy.data, CacheOutcome.HIT))
    try:
        data = await _ask(fetch, reads)
    except JunctionError as failure:
        if found is None or not serves_stale(failure):
            raise
        _log_stale(reads, key, found, failure, now=began)
        return _counted(reads, CachedRead(found.copy.data, CacheOutcome.STALE))
    if bypass:  # not kept: a client could otherwise make the app write its state store on every request
        return _counted(reads, CachedRead(data, CacheOutcome.BYPASS))
    await _keep(reads, key, CachedCopy(data, began))
    return _counted(reads, CachedRead(data, CacheOutcome.MISS))


async def mark_changed(marks: Sequence[str], *, reads: CachedReads) -> None:
    """Make every copy that depends on `marks` out of date (kept, for the stale fallback); raises if not recorded."""
    await reads.cache.mark_changed(marks, at=reads.clock())


def _counted(reads: CachedReads, read: CachedRead) -> CachedRead:
    CACHED_READS.labels(reads.name, read.outcome.value.lower()).inc()
    return read


async def _ask(fetch: Callable[[], Awaitable[Any]], reads: CachedReads) -> Any:
    if reads.owner_timeout_seconds is None:
        return await fetch()
    try:
        async with asyncio.timeout(reads.owner_timeout_seconds):
            return await fetch()
    except TimeoutError:
        raise SidecarCallTimeout(f"The {reads.owner} service did not answer in time.") from None


async def _lookup(reads: CachedReads, key: CacheKey) -> Found | None:
    try:
        async with asyncio.timeout(reads.io_timeout_seconds):
            return await reads.cache.lookup(key)
    except (JunctionError, TimeoutError) as failure:
        _log_store_failure(reads, key, "lookup", failure)
        return None


async def _keep(reads: CachedReads, key: CacheKey, copy: CachedCopy) -> None:
    try:
        async with asyncio.timeout(reads.io_timeout_seconds):
            await reads.cache.keep(key, copy)
    except (JunctionError, TimeoutError) as failure:
        _log_store_failure(reads, key, "keep", failure)


def _log_store_failure(
    reads: CachedReads, key: CacheKey, operation: str, failure: JunctionError | TimeoutError
) -> None:
    reason = failure.code if isinstance(failure, JunctionError) else "TIMEOUT"
    READ_CACHE_FAILURES.labels(reads.name, operation, reason).inc()
    fields: dict[str, object] = {"cache": reads.name, "cacheKey": key.entry, "operation": operation, "reason": reason}
    if isinstance(failure, JunctionError):
        fields["error"] = failure.message
    else:
        fields["timeoutSeconds"] = reads.io_timeout_seconds
    log.warning("the read cache's %s failed; the read goes on without it", operation, extra={"fields": fields})


def _log_stale(reads: CachedReads, key: CacheKey, found: Found, failure: JunctionError, *, now: float) -> None:
    fields = {
        "cache": reads.name,
        "cacheKey": key.entry,
        "owner": reads.owner,
        "ownerCode": failure.code,
        "ownerStatus": failure.status,
        "copyAgeSeconds": round(now - found.copy.fetched_at, 3),
    }
    log.warning("%s did not answer; a cached copy answered, marked stale", reads.owner, extra={"fields": fields})
