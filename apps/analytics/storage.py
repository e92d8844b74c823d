"""analytics' Dapr state: the one hot `summary` document, guarded by its ETag."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from apps.analytics.domain import OrderStatus, Summary
from servicekit.sidecar import SidecarClient, StateOp

SUMMARY_KEY = "summary"


@dataclass(frozen=True)
class StoredSummary:
    summary: Summary
    etag: str | None


class SummaryStore(Protocol):
    async def get(self) -> StoredSummary | None: ...

    async def save(self, summary: Summary, etag: str | None) -> None:
        """Write only if nobody wrote since `etag` was read; with no ETag, only if there is no summary yet."""


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


class DaprSummaryStore:
    def __init__(self, sidecar: SidecarClient) -> None:
        self.sidecar = sidecar

    async def get(self) -> StoredSummary | None:
        item = await self.sidecar.get_state(SUMMARY_KEY)
        if item is None or not item.value:
            return None
        return StoredSummary(from_state(item.value), item.etag)

    async def save(self, summary: Summary, etag: str | None) -> None:
        await self.sidecar.transact([StateOp(SUMMARY_KEY, to_state(summary), etag=etag, insert_only=etag is None)])
