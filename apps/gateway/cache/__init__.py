"""Cached reads of what the gateway relays often (products), with a stale fallback when the owner is down.

`domain` decides (keys, freshness, when a failure may answer a copy), `storage` keeps copies and change
marks in the gateway's Dapr state, `service` reads through them; the owner's events move the marks.
"""

from apps.gateway.cache.domain import CACHE_HEADER, CacheOutcome, product_key, product_list_key
from apps.gateway.cache.service import CachedRead, CachedReads, product_changed, read_through
from apps.gateway.cache.storage import DaprStateReadCache, NoReadCache, ReadCache

__all__ = [
    "CACHE_HEADER",
    "CacheOutcome",
    "CachedRead",
    "CachedReads",
    "DaprStateReadCache",
    "NoReadCache",
    "ReadCache",
    "product_changed",
    "product_key",
    "product_list_key",
    "read_through",
]
