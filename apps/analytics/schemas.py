"""analytics' wire shapes (camelCase JSON)."""

from __future__ import annotations

from apps.analytics.domain import Summary
from servicekit.schemas import Schema


class SummaryRead(Schema):
    orders_by_status: dict[str, int]
    revenue: float
    registrations: int
    event_counts: dict[str, int]

    @classmethod
    def of(cls, summary: Summary) -> SummaryRead:
        return cls(
            orders_by_status={status.value: n for status, n in summary.orders_by_status.items()},
            revenue=float(summary.revenue),
            registrations=summary.registrations,
            event_counts=dict(summary.event_counts),
        )
