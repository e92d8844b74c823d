"""Telling a task's own stop from an asyncio.CancelledError a library raised into it.

grpc.aio ends a call whose channel was closed with CancelledError in the caller's task, though nobody
cancelled that task. A loop that must not die (an outbox relay) or a call that maps failures (the
sidecar client) asks `cancelling()` before taking one for its stop.
"""

from __future__ import annotations

import asyncio


def cancelling() -> bool:
    """True when the running task was asked to stop (Task.cancel), or when no task runs."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0
