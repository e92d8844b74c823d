"""Where cached reads are kept: the app's own Dapr state (its sidecar's `statestore`, keys prefixed by its app id).

Copies expire by the store's TTL (`ttlInSeconds`); change marks outlive every copy filled before them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from servicekit.errors import ETagMismatch
from servicekit.read_cache.domain import CachedCopy, CacheKey, later_mark, mark_ttl_seconds
from servicekit.sidecar import SidecarClient, StateItem, StateOp
from servicekit.sidecar_errors import StateUnavailable

MARK_ATTEMPTS = 5
"""Marks are moved forward by compare-and-set; other instances of the app may each win a race a few times."""


@dataclass(frozen=True)
class Found:
    """A kept copy and the change marks its key depends on (None: no change recorded)."""

    copy: CachedCopy
    changes: tuple[float | None, ...]


class ReadCache(Protocol):
    ttl_seconds: int
    """How long a copy is kept; it never counts as fresh for longer (domain.fresh_seconds)."""

    async def lookup(self, key: CacheKey) -> Found | None:
        """The copy kept under `key` with its marks; None when there is none."""
        ...

    async def keep(self, key: CacheKey, copy: CachedCopy) -> None: ...

    async def mark_changed(self, marks: Sequence[str], *, at: float) -> None:
        """Record that what `marks` name changed at `at` (a mark never moves back)."""
        ...


class NoReadCache:
    """Caching turned off (a TTL of 0): nothing is kept, so every read asks the owner."""

    ttl_seconds = 0

    async def lookup(self, key: CacheKey) -> Found | None:
        return None

    async def keep(self, key: CacheKey, copy: CachedCopy) -> None:
        return None

    async def mark_changed(self, marks: Sequence[str], *, at: float) -> None:
        return None


class DaprStateReadCache:
    """ReadCache in Dapr state through the app's own sidecar."""

    def __init__(
        self, sidecar: SidecarClient, *, ttl_seconds: int, fill_seconds: float, store: str | None = None
    ) -> None:
        self.sidecar = sidecar
        self.ttl_seconds = ttl_seconds
        self.mark_ttl_seconds = mark_ttl_seconds(ttl_seconds, fill_seconds)
        self.store = store
        self._writers: dict[str, _MarkWriter] = {}

    async def lookup(self, key: CacheKey) -> Found | None:
        """The copy and its marks in one call to the sidecar (GetBulkState): every cached read makes it."""
        found = await self.sidecar.get_bulk_state([key.entry, *key.marks], store=self.store)
        copy = _copy(found.get(key.entry))
        if copy is None:
            return None
        return Found(copy, tuple(_mark(found.get(mark)) for mark in key.marks))

    async def keep(self, key: CacheKey, copy: CachedCopy) -> None:
        value = {"data": copy.data, "fetchedAt": copy.fetched_at}
        await self.sidecar.save_state(key.entry, value, store=self.store, ttl_seconds=self.ttl_seconds)

    async def mark_changed(self, marks: Sequence[str], *, at: float) -> None:
        for mark in marks:
            await self._move_forward(mark, at)

    async def _move_forward(self, mark: str, at: float) -> None:
        """Move a mark to `at` or later, one write for every delivery of this app waiting on the same mark.

        Deliveries of one app that change one mark at once (every stock change moves the product list's)
        take turns: the one whose turn it is writes the latest change any of them waits with, and those it
        covered return without a read or a write of their own. A later mark only makes more copies out of
        date, never fewer. Other instances of the app still meet at the ETag.
        """
        writer = self._writers.setdefault(mark, _MarkWriter())
        writer.users += 1
        writer.wanted = at if writer.wanted is None else max(writer.wanted, at)
        try:
            async with writer.turn:
                if writer.written is not None and writer.written >= at:
                    return  # written while this delivery waited its turn
                target = writer.wanted
                await self._compare_and_set(mark, target)
                writer.written = target
        finally:
            writer.users -= 1
            if not writer.users:
                del self._writers[mark]

    async def _compare_and_set(self, mark: str, at: float) -> None:
        for _ in range(MARK_ATTEMPTS):
            current = await self.sidecar.get_state(mark, store=self.store)
            recorded = _mark(current)
            if recorded is not None and recorded >= at:
                return
            write = StateOp(
                mark,
                {"at": later_mark(recorded, at)},
                etag=current.etag if current is not None else None,
                insert_only=current is None,
                ttl_seconds=self.mark_ttl_seconds,
            )
            try:
                await self.sidecar.transact([write], store=self.store)
            except ETagMismatch:
                continue  # another instance moved it meanwhile: read it again
            return
        raise StateUnavailable(f"The change mark {mark} kept moving; the event is retried.")


@dataclass
class _MarkWriter:
    """The deliveries of one app moving one mark now: whose turn it is, the latest change they wait with."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    wanted: float | None = None
    written: float | None = None


def state_cache(sidecar: SidecarClient, *, ttl_seconds: int, fill_seconds: float, store: str) -> ReadCache:
    """Copies kept `ttl_seconds` in the app's state store `store`; none at all when `ttl_seconds` is 0.

    `fill_seconds` is the longest a fill may take (the owner's budget): marks outlive it with every copy.
    """
    if ttl_seconds <= 0:
        return NoReadCache()
    return DaprStateReadCache(sidecar, ttl_seconds=ttl_seconds, fill_seconds=fill_seconds, store=store)


def _copy(item: StateItem | None) -> CachedCopy | None:
    value: Any = item.value if item is not None else None
    if not isinstance(value, dict) or "data" not in value or not isinstance(value.get("fetchedAt"), int | float):
        return None  # nothing kept, or not in this shape: a miss
    return CachedCopy(value["data"], float(value["fetchedAt"]))


def _mark(item: StateItem | None) -> float | None:
    value: Any = item.value if item is not None else None
    at = value.get("at") if isinstance(value, dict) else None
    return float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None
