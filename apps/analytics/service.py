"""analytics' use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

import asyncio
import zlib

from apps.analytics.domain import Observe, Summary, merged
from apps.analytics.storage import SummaryRepository
from servicekit.conflicts import retry_on_conflict


def shard_of(partition: str, shards: int) -> int:
    """The shard a partition's events are counted in; crc32 is stable across processes, unlike hash()."""
    return zlib.crc32(partition.encode()) % shards


async def observe(command: Observe, *, summaries: SummaryRepository, order_id: str | None = None) -> bool:
    """Count an event once; False when it was counted already.

    Events of one order share a shard, so a cancel meets its own create and the shard's counts stay
    consistent; any other event spreads by its id. A redelivery finds the event's marker, written with
    the shard, and counts nothing.
    """
    shard = shard_of(order_id or command.event_id, summaries.shards)

    async def attempt() -> bool:
        stored, applied = await summaries.get_with_marker(shard, command.event_id)
        if applied:
            return False
        changed = (stored.summary if stored else Summary()).observe(command)
        if changed is None:
            return False
        # Another instance writing the shard meanwhile makes this write clash on the ETag: it is redone
        # instead of lost; the shards keep such clashes rare.
        await summaries.save(shard, changed, stored.etag if stored else None, event_id=command.event_id)
        return True

    async with summaries.turn(shard):  # this instance's deliveries to the shard take turns instead of clashing
        return await retry_on_conflict(attempt)


async def current_summary(*, summaries: SummaryRepository) -> Summary:
    """The figures of every shard added up."""
    stored = await asyncio.gather(*(summaries.get(shard) for shard in range(summaries.shards)))
    return merged(part.summary for part in stored if part is not None)
