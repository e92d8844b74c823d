"""servicekit.clock: every Junction timestamp is ISO 8601 in UTC with a `Z`, whatever zone it came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from servicekit.clock import as_utc, utc_now, utc_text

BANGKOK = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), "2026-03-04T05:06:07Z"),
        (datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC), "2026-03-04T05:06:07.123456Z"),
        (datetime(2026, 3, 4, 12, 6, 7, tzinfo=BANGKOK), "2026-03-04T05:06:07Z"),
        (datetime(2026, 3, 4, 5, 6, 7), "2026-03-04T05:06:07Z"),  # SQLite's naive UTC
    ],
)
def test_utc_text_writes_utc_with_a_z(moment: datetime, text: str) -> None:
    assert utc_text(moment) == text
    assert datetime.fromisoformat(text) == as_utc(moment)


def test_as_utc_keeps_the_instant_and_takes_a_naive_moment_as_utc() -> None:
    assert as_utc(datetime(2026, 3, 4, 12, tzinfo=BANGKOK)) == datetime(2026, 3, 4, 5, tzinfo=UTC)
    assert as_utc(datetime(2026, 3, 4, 12)).tzinfo is UTC


def test_utc_now_is_aware() -> None:
    assert utc_now().tzinfo is UTC
