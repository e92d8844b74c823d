"""What a cached read decides, with no I/O: where a copy is kept, when it is fresh, when a failure may answer it.

A copy is never deleted when its owner says it changed: each change records a mark (the time the gateway
learnt of it), and a copy counts as fresh only when the read that filled it began after the last mark
that concerns it. The read's start is taken before the owner is asked, so a fill that races a change is
never fresh. A copy that is not fresh still answers, marked stale, when the owner does not answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from servicekit import JunctionError

CACHE_HEADER = "X-Cache"
ALL_PRODUCTS_MARK = "changed:products"
"""Marked on every product change: every cached page of the product list depends on it."""


class CacheOutcome(StrEnum):
    """Where an answer came from: the `X-Cache` header."""

    HIT = "HIT"
    """A fresh copy; the owner was not asked."""
    MISS = "MISS"
    """The owner's answer, now kept."""
    STALE = "STALE"
    """A copy the owner could not confirm: it did not answer."""
    BYPASS = "BYPASS"
    """The owner's answer to a request that asked for no cached copy (`Cache-Control: no-cache`)."""


@dataclass(frozen=True)
class CacheKey:
    """Where a copy is kept, and the change marks it depends on."""

    entry: str
    marks: tuple[str, ...]


@dataclass(frozen=True)
class CachedCopy:
    data: Any
    fetched_at: float
    """When the read that filled it began (seconds since the epoch), before it asked the owner."""


def _part(value: str) -> str:
    # Ids are validated at the route already; quoting keeps `:`, `|` or `/` from ever meaning anything here.
    return quote(value, safe="")


def product_mark(product_id: str) -> str:
    return f"changed:product:{_part(product_id)}"


def product_key(product_id: str) -> CacheKey:
    """One product: changed by its own stock events only."""
    return CacheKey(f"product:{_part(product_id)}", (product_mark(product_id),))


def product_list_key(limit: int, offset: int) -> CacheKey:
    """One page of the product list: changed by any product's change (a new product moves every page)."""
    return CacheKey(f"products:limit={limit}:offset={offset}", (ALL_PRODUCTS_MARK,))


def marks_of_product_change(product_id: str) -> tuple[str, ...]:
    """What a change of one product's stock makes out of date: that product, and every page of the list."""
    return (product_mark(product_id), ALL_PRODUCTS_MARK)


def is_fresh(copy: CachedCopy, changes: Iterable[float | None]) -> bool:
    """Fresh when its read began after the last recorded change (none recorded: nothing changed since)."""
    last = max((at for at in changes if at is not None), default=None)
    return last is None or copy.fetched_at > last


def serves_stale(failure: JunctionError) -> bool:
    """Whether a read that failed so may answer a cached copy: the owner did not answer (a 5xx), never a refusal."""
    return failure.status >= 500


def later_mark(recorded: float | None, at: float) -> float:
    """A mark only moves forward: a change learnt late never makes an older copy fresh again."""
    return at if recorded is None else max(recorded, at)


def mark_ttl_seconds(copy_ttl_seconds: int, fill_seconds: float) -> int:
    """How long a mark must be kept: as long as any copy filled before it may still be in the store.

    A copy's TTL runs from its write, which may come up to one fill's duration after its read began.
    """
    return copy_ttl_seconds + math.ceil(fill_seconds) + 1
