"""Per-key locks inside one process, in front of optimistic concurrency.

ETags keep a read-modify-write correct across processes, but writers of one hot key inside the
same process would only clash and retry each other (every clash is a wasted read and write, and
under load the retries pile up past a caller's timeout). Queuing them here turns that storm into a
line; ETags still guard against other replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class KeyedLocks:
    """Hold several keys at once, always in sorted order (so two holders never wait on each other)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        ordered = sorted(set(keys))
        for key in ordered:  # counted before waiting, so a lock in use is never dropped
            self._holders[key] = self._holders.get(key, 0) + 1
            self._locks.setdefault(key, asyncio.Lock())
        acquired: list[asyncio.Lock] = []
        try:
            for key in ordered:
                await self._locks[key].acquire()
                acquired.append(self._locks[key])
            yield
        finally:
            for lock in reversed(acquired):
                lock.release()
            for key in ordered:
                self._holders[key] -= 1
                if self._holders[key] == 0:
                    del self._holders[key], self._locks[key]

    def __len__(self) -> int:
        """How many keys are held or waited for now (0 when idle: the map never grows without bound)."""
        return len(self._locks)
