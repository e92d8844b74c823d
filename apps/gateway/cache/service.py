"""The gateway's reads through servicekit.read_cache: products from catalog, the caller's profile from identity.

Each cache is built from the gateway's settings in its own state store: `product_reads` here, the profiles'
by `servicekit.read_cache.users`. A read's failure leaves as `public_error`, like every peer's; catalog's
stock events move the product marks (`product_changed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apps.gateway.cache.domain import marks_of_product_change
from apps.gateway.errors import public_error
from apps.gateway.settings import GatewaySettings
from servicekit import JunctionError, SidecarClient
from servicekit.read_cache import CachedRead, CachedReads, CacheKey, mark_changed, read_through, state_cache


async def read_public(
    key: CacheKey, fetch: Callable[[], Awaitable[Any]], *, reads: CachedReads, bypass: bool = False
) -> CachedRead:
    """`read_through`, its failure as a public client may see it (the owner's timeout says nothing internal)."""
    try:
        return await read_through(key, fetch, reads=reads, bypass=bypass)
    except JunctionError as failure:
        public = public_error(failure)
        if public is failure:
            raise
        raise public from failure


async def product_changed(product_id: str, *, reads: CachedReads) -> None:
    """Make the product's copies and every page of the list out of date (kept, for the stale fallback)."""
    await mark_changed(marks_of_product_change(product_id), reads=reads)


def product_reads(settings: GatewaySettings, sidecar: SidecarClient) -> CachedReads:
    """Products and pages of the list, fresh until catalog says they changed; none when the TTL is 0."""
    timeout = settings.catalog_read_timeout_seconds
    cache = state_cache(
        sidecar,
        ttl_seconds=settings.product_cache_ttl_seconds,
        fill_seconds=timeout,
        store=settings.statestore_name,
    )
    return CachedReads(
        cache,
        name="products",
        owner=settings.catalog_app_id,
        owner_timeout_seconds=timeout,
        io_timeout_seconds=settings.read_cache_io_timeout_seconds,
    )
