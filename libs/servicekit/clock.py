"""Time in UTC: the clock use cases take, and the text every Junction timestamp is written as."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""What a use case asks the time of; `utc_now` in production, a fixed or stepping one in tests."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The moment in UTC; one without a zone is taken to be UTC (SQLite and careless producers drop it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, like every Junction timestamp: `2026-03-04T05:06:07.123456Z`."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")
