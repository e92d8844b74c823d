"""Optimistic concurrency: redo a read-modify-write when someone else wrote first."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
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


class Turns:
    """The writers of one document within this instance take turns, so their read-modify-writes never clash.

    Without them, the deliveries an app handles at once that change one document (the events of one order
    counted in one shard, say) read the same ETag, all but one lose at the write and start again after a
    pause. In turn, each reads what the one before wrote. The ETag still guards against other instances.
    A key is forgotten once nobody waits on it.
    """

    def __init__(self) -> None:
        self._waiting: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def of(self, key: Hashable) -> AsyncIterator[None]:
        lock, waiting = self._waiting.get(key, (asyncio.Lock(), 0))
        self._waiting[key] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._waiting[key]
            if waiting == 1:
                del self._waiting[key]
            else:
                self._waiting[key] = (lock, waiting - 1)

    def __len__(self) -> int:
        """How many keys someone holds or waits on."""
        return len(self._waiting)
