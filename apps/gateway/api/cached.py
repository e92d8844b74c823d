"""What a route read through a cache (apps.gateway.cache) declares and answers: the `Cache-Control: no-cache` it
honours, the `X-Cache` header it sends, and the envelope's `stale` when a kept copy answered for its owner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse

from servicekit import ok
from servicekit.read_cache import CACHE_HEADER, CachedRead, CacheOutcome

CacheControl = Annotated[
    str | None,
    Header(
        alias="Cache-Control",
        max_length=256,
        description="`no-cache` asks the owning service itself, with no cached copy and no stale fallback.",
    ),
]


def no_cache(cache_control: str | None) -> bool:
    """Whether the client asked for the owner's own answer (`no-cache` among the header's directives)."""
    return "no-cache" in (part.strip().lower() for part in (cache_control or "").split(","))


def cached_responses(owner: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI document's `X-Cache` on a 200 whose data `owner` (an app id) answers."""
    description = (
        f"HIT: a fresh cached copy; MISS: {owner}'s answer, now cached; STALE: a cached copy served because "
        f"{owner} did not answer (the envelope says `stale: true`); BYPASS: {owner}'s answer to "
        "`Cache-Control: no-cache`, not cached."
    )
    schema = {"type": "string", "enum": [outcome.value for outcome in CacheOutcome]}
    return {200: {"headers": {CACHE_HEADER: {"description": description, "schema": schema}}}}


def answer(read: CachedRead) -> JSONResponse:
    """The envelope of a cached read, `stale: true` when a copy answered, and where it came from in `X-Cache`."""
    return ok(read.data, stale=read.stale, headers={CACHE_HEADER: read.outcome.value})
