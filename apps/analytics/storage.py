"""analytics' Dapr state: the summary split over `summary:<n>` shard documents, each guarded by its ETag.

Each counted event leaves an `applied:{eventId}` marker (servicekit.dedupe) written with its shard.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from apps.analytics.domain import OrderStatus, Summary
from servicekit.conflicts import Turns
from servicekit.dedupe import applied_marker, read_with_marker
from servicekit.sidecar import SidecarClient, StateItem, StateOp

SHARDS = 16


def summary_keys(shards: int = SHARDS) -> list[str]:
    """Every state key the summary is split over, in shard order."""
    return [f"summary:{shard}" for shard in range(shards)]


@dataclass(frozen=True)
class StoredSummary:
    summary: Summary
    etag: str | None


class SummaryRepository(Protocol):
    @property
    def shards(self) -> int:
        """How many shards the summary is split over; shard numbers run from 0 to this minus one."""

    async def get(self, shard: int) -> StoredSummary | None: ...

    def turn(self, shard: int) -> AbstractAsyncContextManager[None]:
        """Held while one delivery of this instance reads and writes the shard: the others wait their turn."""
        ...

    async def get_with_marker(self, shard: int, event_id: str) -> tuple[StoredSummary | None, bool]:
        """The shard, and whether the event's marker is there (it was counted within the dedupe horizon)."""
        ...

    async def save(self, shard: int, summary: Summary, etag: str | None, *, event_id: str) -> None:
        """Write with the event's marker, only if nobody wrote the shard since `etag` (no ETag: only if empty)."""


def to_state(summary: Summary) -> dict[str, Any]:
    return {
        "ordersByStatus": {status.value: n for status, n in summary.orders_by_status.items()},
        "revenue": float(summary.revenue),
        "registrations": summary.registrations,
        "eventCounts": dict(summary.event_counts),
        "seen": list(summary.seen),
    }


def from_state(value: dict[str, Any]) -> Summary:
    return Summary(
        orders_by_status={OrderStatus(s): int(n) for s, n in value.get("ordersByStatus", {}).items()},
        revenue=Decimal(str(value.get("revenue", 0))),
        registrations=int(value.get("registrations", 0)),
        event_counts={topic: int(n) for topic, n in value.get("eventCounts", {}).items()},
        seen=tuple(value.get("seen", [])),
    )


class DaprStateSummaryRepository:
    def __init__(self, sidecar: SidecarClient, *, shards: int = SHARDS) -> None:
        if shards < 1:
            raise ValueError("The summary needs at least one shard.")
        self.sidecar = sidecar
        self.keys = summary_keys(shards)
        self.turns = Turns()

    @property
    def shards(self) -> int:
        return len(self.keys)

    def turn(self, shard: int) -> AbstractAsyncContextManager[None]:
        return self.turns.of(shard)

    async def get(self, shard: int) -> StoredSummary | None:
        return _stored(await self.sidecar.get_state(self.keys[shard]))

    async def get_with_marker(self, shard: int, event_id: str) -> tuple[StoredSummary | None, bool]:
        item, applied = await read_with_marker(self.sidecar, self.keys[shard], event_id)
        return _stored(item), applied

    async def save(self, shard: int, summary: Summary, etag: str | None, *, event_id: str) -> None:
        op = StateOp(self.keys[shard], to_state(summary), etag=etag, insert_only=etag is None)
        await self.sidecar.transact([op, applied_marker(event_id)])


def _stored(item: StateItem | None) -> StoredSummary | None:
    if item is None or not item.value:
        return None
    return StoredSummary(from_state(item.value), item.etag)
