"""identity's answers about users, kept by the apps that ask for them: orders' user check, the gateway's /users/me.

Both keep them the same way, so both build the cache here from the same settings. No event moves these copies
(identity publishes no change of a user): the fresh window alone bounds how old an answer may be while identity
answers, and a copy is kept a day to answer, marked stale, while it does not.
"""

from __future__ import annotations

from pydantic import Field

from servicekit.read_cache.service import CachedReads
from servicekit.read_cache.storage import state_cache
from servicekit.settings import ServiceSettings
from servicekit.sidecar import SidecarClient


class UserReadSettings(ServiceSettings):
    """The settings of an app that asks identity about users and keeps its answers."""

    identity_app_id: str = "identity"
    identity_deadline_seconds: float = Field(7.0, gt=0, le=60)
    """The deadline of a gRPC call to identity: a little over the leaf budget its sidecar may spend on it
    (3 attempts x 2 s + backoff = 6.5 s, components/common/resiliency.yaml), so the sidecar's policy decides."""
    user_cache_fresh_seconds: int = Field(300, ge=0, le=86400)
    """An answer identity gave this recently is used without asking again (five minutes); 0: always asks."""
    user_cache_ttl_seconds: int = Field(86400, ge=0, le=30 * 86400)
    """How long an answer is kept (`ttlInSeconds`) to answer, marked stale, while identity does not; 0: no cache."""
    read_cache_io_timeout_seconds: float = Field(0.5, gt=0, le=5)
    """How long a read cache's lookup, and its keep, may take in the state store; past it the read goes on
    without the copy (the store hung: the owner is asked, its answer is not kept)."""


def identity_user_reads(settings: UserReadSettings, sidecar: SidecarClient) -> CachedReads:
    """The cache of identity's answers about users, in the app's own state store.

    No timeout of its own: the gRPC call's deadline (IDENTITY_DEADLINE_SECONDS) bounds a fill, so identity out
    of time stays a 504 when no copy is kept.
    """
    cache = state_cache(
        sidecar,
        ttl_seconds=settings.user_cache_ttl_seconds,
        fill_seconds=settings.identity_deadline_seconds,
        store=settings.statestore_name,
    )
    return CachedReads(
        cache,
        name="users",
        owner=settings.identity_app_id,
        max_age_seconds=settings.user_cache_fresh_seconds,
        io_timeout_seconds=settings.read_cache_io_timeout_seconds,
    )
