"""Remembering applied event ids inside an aggregate, so a redelivered event changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

KEEP = 2000
"""How many recent event ids an aggregate remembers; redeliveries come long before that many events."""


def already_applied(seen: Sequence[str], event_id: str) -> bool:
    return event_id in seen


def remember(seen: Sequence[str], event_id: str, *, keep: int = KEEP) -> list[str]:
    """Return the ids with this one added, oldest dropped past `keep`."""
    return [*seen, event_id][-keep:]
