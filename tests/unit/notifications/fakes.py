"""notifications' fake for unit tests: a FakeSidecar whose state calls interleave."""

from __future__ import annotations

import asyncio

from servicekit.sidecar import StateItem, StateOp
from tests.unit.fakes import FakeSidecar


class InterleavingSidecar(FakeSidecar):
    """Yields to the event loop around every state call, so gathered deliveries really interleave."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        item = await super().get_state(key, store=store)
        await asyncio.sleep(0)
        return item

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await asyncio.sleep(0)
        await super().transact(operations, store=store)
