"""Applied-event markers: one insert-only key per event id, written with the effect, forgotten by TTL.

A consumer on a Dapr state store writes `applied:<eventId>` insert-only in the same transaction as the
change the event causes: a second delivery finds the marker (or clashes on it and, retrying, finds it)
and changes nothing. The marker's TTL (DEDUPE_HORIZON_SECONDS) lets the store bound itself, and it
outlives every redelivery and every replay admin still allows (servicekit.horizons).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from servicekit.horizons import DEDUPE_HORIZON_SECONDS
from servicekit.sidecar import SidecarClient, StateItem, StateOp

_PLAIN_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


def marker_key(event_id: str, prefix: str = "applied") -> str:
    """The state key of an event's marker; an odd id (Dapr refuses keys with `||`) is hashed."""
    plain = event_id if _PLAIN_ID.fullmatch(event_id) else "sha256-" + hashlib.sha256(event_id.encode()).hexdigest()
    return f"{prefix}:{plain}"


def applied_marker(event_id: str, *, horizon_seconds: int = DEDUPE_HORIZON_SECONDS, prefix: str = "applied") -> StateOp:
    """The operation that records an event as applied: insert-only, so a second one clashes."""
    return StateOp(marker_key(event_id, prefix), {"eventId": event_id}, insert_only=True, ttl_seconds=horizon_seconds)


async def read_with_marker(
    sidecar: SidecarClient, key: str, event_id: str, *, prefix: str = "applied"
) -> tuple[StateItem | None, bool]:
    """The document at `key` and whether the event was applied already, read in one call to the sidecar.

    One GetBulkState for both keys instead of two reads: a consumer's every delivery makes it, and each call
    to the sidecar costs the app more than the store's read. The marker is written insert-only with the
    document, so a delivery that raced this one clashes on the write and, retried, finds its marker.
    """
    marker = marker_key(event_id, prefix)
    found = await sidecar.get_bulk_state([key, marker])
    return found.get(key), marker in found


def already_applied(seen: Sequence[str], event_id: str) -> bool:
    """Whether an id list kept inside an aggregate before markers existed names this event."""
    return event_id in seen
