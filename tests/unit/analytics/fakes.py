"""analytics' fake for unit tests: a FakeSidecar whose state calls interleave, and that counts concurrent reads."""

from __future__ import annotations

import asyncio

from servicekit.sidecar import StateItem, StateOp
from tests.unit.fakes import FakeSidecar


class InterleavingSidecar(FakeSidecar):
    """Yields to the event loop around every state call, so gathered deliveries really interleave."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = 0
        self.most_reading = 0

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        self.reading += 1
        self.most_reading = max(self.most_reading, self.reading)
        item = await super().get_state(key, store=store)
        await asyncio.sleep(0)
        self.reading -= 1
        return item

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await asyncio.sleep(0)
        await super().transact(operations, store=store)
