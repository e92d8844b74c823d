"""Bound Redis streams without dropping an unconsumed event: trim only what every consumer group acked.

Dapr's `maxLenApprox` (and `streamTTL`) trim at publish time whatever the consumer groups have read,
so a consumer that is down or slow loses events: unsafe for Junction's guarantees. This janitor trims
a stream (`XTRIM <stream> MINID <id>`) only below the oldest entry some group still needs:

    needed(group) = its oldest pending id (delivered, not acked) if any, else last-delivered-id + 1
    floor        = min(needed(group) for every group), and never above now - keep_seconds

A stream with no group, or missing a group it is expected to have (a subscriber not started yet,
whose group Dapr creates reading from 0), is left alone. It runs beside the broker (the servers of the
profile), not in an app: no app should hold broker credentials for this. Apps never import it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

StreamId = tuple[int, int]


@dataclass(frozen=True)
class Group:
    name: str
    last_delivered_id: str
    pending: int


@dataclass(frozen=True)
class Trimmed:
    stream: str
    below: str | None
    """The MINID trimmed to, or None when the stream was left alone."""
    removed: int
    reason: str = ""


class StreamAdmin(Protocol):
    """The few broker commands the janitor needs (XINFO GROUPS, XPENDING, XTRIM MINID, SCAN TYPE stream)."""

    async def streams(self) -> list[str]: ...

    async def groups(self, stream: str) -> list[Group]: ...

    async def oldest_pending(self, stream: str, group: str) -> str | None: ...

    async def trim_below(self, stream: str, min_id: str) -> int:
        """XTRIM stream MINID min_id: remove entries with an id lower than min_id; return how many."""
        ...


def parse_id(text: str) -> StreamId:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def format_id(stream_id: StreamId) -> str:
    return f"{stream_id[0]}-{stream_id[1]}"


async def needed_from(admin: StreamAdmin, stream: str, group: Group) -> StreamId:
    """The oldest entry this group may still ask for."""
    if group.pending > 0:
        oldest = await admin.oldest_pending(stream, group.name)
        if oldest is not None:
            return parse_id(oldest)
    ms, seq = parse_id(group.last_delivered_id)
    return ms, seq + 1


async def sweep_stream(
    admin: StreamAdmin, stream: str, *, expected: Sequence[str] = (), keep_seconds: float, now_ms: int
) -> Trimmed:
    groups = await admin.groups(stream)
    if not groups:
        return Trimmed(stream, None, 0, "no consumer group")
    missing = set(expected) - {g.name for g in groups}
    if missing:
        return Trimmed(stream, None, 0, f"expected groups missing: {sorted(missing)}")
    floor = min([await needed_from(admin, stream, g) for g in groups])
    floor = min(floor, (now_ms - int(keep_seconds * 1000), 0))
    if floor <= (0, 0):
        return Trimmed(stream, None, 0, "nothing acknowledged yet")
    below = format_id(floor)
    return Trimmed(stream, below, await admin.trim_below(stream, below))


async def sweep(
    admin: StreamAdmin,
    *,
    expected_groups: Mapping[str, Sequence[str]] | None = None,
    keep_seconds: float = 3600.0,
    now_ms: int | None = None,
) -> list[Trimmed]:
    """Trim every stream to what all its groups acknowledged (and older than `keep_seconds`)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    expected = expected_groups or {}
    return [
        await sweep_stream(admin, stream, expected=expected.get(stream, ()), keep_seconds=keep_seconds, now_ms=now)
        for stream in await admin.streams()
    ]
