"""Telling a task's own stop from an asyncio.CancelledError a library raised into it; a periodic task.

grpc.aio ends a call whose channel was closed with CancelledError in the caller's task, though nobody
cancelled that task. A loop that must not die (an outbox relay) or a call that maps failures (the
sidecar client) asks `cancelling()` before taking one for its stop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

log = logging.getLogger("servicekit.tasks")


def cancelling() -> bool:
    """True when the running task was asked to stop (Task.cancel), or when no task runs."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


@asynccontextmanager
async def every(seconds: float, tick: Callable[[], Awaitable[object]], *, name: str) -> AsyncIterator[None]:
    """Run `tick` every `seconds` (start to start) in the background while the block runs; stop it after.

    A tick that fails is logged and the next one runs: a periodic repair must outlive one bad pass.
    """

    async def loop() -> None:
        while True:
            started = time.monotonic()
            try:
                await tick()
            except Exception:
                log.exception("a pass of %s failed", name)
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
