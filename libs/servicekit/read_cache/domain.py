"""What a cached read decides, with no I/O: where a copy is kept, when it is fresh, when a failure may answer it.

A copy is never deleted when its owner says it changed: each change records a mark (the time the app
learnt of it), and a copy counts as fresh only when the read that filled it began after the last mark
that concerns it, and no longer ago than its fresh window (`fresh_seconds`: the cache's `max_age_seconds`,
never more than the copy's TTL). The read's start is taken before the owner is asked, so a fill that races
a change is never fresh. A copy that is not fresh still answers, marked stale, when the owner does not
answer, until the store's TTL removes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from servicekit.errors import JunctionError

CACHE_HEADER = "X-Cache"


class CacheOutcome(StrEnum):
    """Where an answer came from: the `X-Cache` header."""

    HIT = "HIT"
    """A fresh copy; the owner was not asked."""
    MISS = "MISS"
    """The owner's answer, now kept."""
    STALE = "STALE"
    """A copy the owner could not confirm: it did not answer."""
    BYPASS = "BYPASS"
    """The owner's answer to a request that asked for no cached copy (`Cache-Control: no-cache`); not kept."""


@dataclass(frozen=True)
class CacheKey:
    """Where a copy is kept, and the change marks it depends on (none: only its age dates it)."""

    entry: str
    marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class CachedCopy:
    data: Any
    fetched_at: float
    """When the read that filled it began (seconds since the epoch), before it asked the owner."""


def key_part(value: str) -> str:
    """One id inside a key or a mark: quoted, so `:`, `|` or `/` in it never mean anything there."""
    return quote(value, safe="")


def is_fresh(copy: CachedCopy, changes: Iterable[float | None], *, now: float, fresh_seconds: float) -> bool:
    """Fresh when its read began less than `fresh_seconds` before `now` (0: never fresh, only a fallback) and
    after the last recorded change (none recorded: nothing changed since)."""
    if now - copy.fetched_at >= fresh_seconds:
        return False
    last = max((at for at in changes if at is not None), default=None)
    return last is None or copy.fetched_at > last


def fresh_seconds(ttl_seconds: float, max_age_seconds: float | None) -> float:
    """How long after its read began a copy may count as fresh: its age limit, and never longer than its TTL.

    A missing mark reads as "nothing changed", so a copy may be fresh only while every mark that could date
    it is surely still kept: a mark is kept `mark_ttl_seconds` (more than a TTL) from its write, which came
    after the copy's read began. A copy's own TTL runs from its write instead, and a write that reached the
    store late (a slow store, a keep given up on but carried out) makes the copy outlive such a mark.
    """
    return ttl_seconds if max_age_seconds is None else min(ttl_seconds, max_age_seconds)


def serves_stale(failure: JunctionError) -> bool:
    """Whether a read that failed so may answer a cached copy: the owner did not answer (a 5xx: down, out of time,
    its breaker open), never a refusal (a 404 or a 422 is an answer)."""
    return failure.status >= 500


def later_mark(recorded: float | None, at: float) -> float:
    """A mark only moves forward: a change learnt late never makes an older copy fresh again."""
    return at if recorded is None else max(recorded, at)


def mark_ttl_seconds(copy_ttl_seconds: int, fill_seconds: float) -> int:
    """How long a mark must be kept: as long as any copy filled before it may still be in the store.

    A copy's TTL runs from its write, which may come up to one fill's duration after its read began.
    """
    return copy_ttl_seconds + math.ceil(fill_seconds) + 1
