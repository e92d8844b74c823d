"""servicekit.tasks: a periodic task outlives a failing pass and stops with its block."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.tasks import cancelling, every

pytestmark = pytest.mark.anyio


async def test_every_runs_on_after_a_failing_pass_and_stops_with_its_block() -> None:
    passes: list[int] = []
    third = asyncio.Event()

    async def tick() -> None:
        passes.append(len(passes))
        if len(passes) == 3:
            third.set()
        if len(passes) == 1:
            raise RuntimeError("the first pass fails")

    async with every(0.01, tick, name="test-ticks"):
        await asyncio.wait_for(third.wait(), 5)
    stopped = len(passes)
    await asyncio.sleep(0.05)
    assert stopped >= 3 and len(passes) == stopped  # it ran on, and nothing runs after the block


async def test_a_task_knows_its_own_stop_from_a_cancellation_it_was_not_asked_for() -> None:
    seen: list[bool] = []

    async def worker() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append(cancelling())
            raise

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [True]
