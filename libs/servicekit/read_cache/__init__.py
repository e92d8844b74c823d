"""Reads of another app's data kept in the app's own Dapr state store, with a stale fallback when the owner is down.

`domain` decides (keys, freshness by change marks and age, when a failure may answer a copy), `storage`
keeps copies and marks in the sidecar's state store with `ttlInSeconds`, `service` reads through them.
The app names its keys and marks (the gateway's products, orders' users) and moves the marks from the
owner's events; a read says where its answer came from (`X-Cache`, CacheOutcome).
"""

from servicekit.read_cache.domain import CACHE_HEADER, CachedCopy, CacheKey, CacheOutcome, key_part
from servicekit.read_cache.service import CachedRead, CachedReads, mark_changed, read_through
from servicekit.read_cache.storage import DaprStateReadCache, Found, NoReadCache, ReadCache, state_cache

__all__ = [
    "CACHE_HEADER",
    "CacheKey",
    "CacheOutcome",
    "CachedCopy",
    "CachedRead",
    "CachedReads",
    "DaprStateReadCache",
    "Found",
    "NoReadCache",
    "ReadCache",
    "key_part",
    "mark_changed",
    "read_through",
    "state_cache",
]
