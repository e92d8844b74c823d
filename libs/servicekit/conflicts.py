"""Optimistic concurrency: redo a read-modify-write when someone else wrote first."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from servicekit.errors import Conflict, Contended, ETagMismatch

T = TypeVar("T")


async def retry_on_conflict(attempt: Callable[[], Awaitable[T]], *, attempts: int = 60) -> T:
    """Run `attempt` until it commits without an ETag clash, with short jittered pauses between tries."""
    for tried in range(1, attempts + 1):
        try:
            return await attempt()
        except Conflict as clash:
            lost_race = clash.code == ETagMismatch.default_code
            if not lost_race or tried == attempts:
                if lost_race:
                    # A 409, not a 503: nothing was written, and a sidecar must not retry it blindly.
                    raise Contended("Too much contention; try again.") from clash
                raise
            await asyncio.sleep(random.uniform(0.002, 0.01 * min(tried, 10)))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable")
