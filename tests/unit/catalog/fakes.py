"""catalog's fake for unit tests: a FakeSidecar whose state calls interleave, as a real sidecar's do."""

from __future__ import annotations

import asyncio

from servicekit.sidecar import StateItem, StateOp
from tests.unit.fakes import FakeSidecar


class InterleavingSidecar(FakeSidecar):
    """Gives the event loop away around every read and write, as a real sidecar's network calls do."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        await asyncio.sleep(0)
        item = await super().get_state(key, store=store)
        await asyncio.sleep(0)
        return item

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await asyncio.sleep(0)
        await super().transact(operations, store=store)
