"""analytics' use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

from apps.analytics.domain import Observe, Summary
from apps.analytics.storage import SummaryStore
from servicekit.conflicts import retry_on_conflict


async def observe(command: Observe, *, summaries: SummaryStore) -> bool:
    """Count an event once; False when it was counted already."""

    async def attempt() -> bool:
        stored = await summaries.get()
        changed = (stored.summary if stored else Summary()).observe(command)
        if changed is None:
            return False
        # Every event writes this one key: the ETag makes concurrent writers redo their update, not lose it.
        await summaries.save(changed, stored.etag if stored else None)
        return True

    return await retry_on_conflict(attempt)


async def current_summary(*, summaries: SummaryStore) -> Summary:
    stored = await summaries.get()
    return stored.summary if stored else Summary()
