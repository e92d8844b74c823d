"""KeyedLocks: writers of one key queue, writers of others do not wait, and idle keys are forgotten."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.locks import KeyedLocks

pytestmark = pytest.mark.anyio


async def test_writers_of_a_shared_key_take_turns_and_the_map_empties_afterwards() -> None:
    locks, inside, most = KeyedLocks(), 0, 0

    async def writer(keys: list[str]) -> None:
        nonlocal inside, most
        async with locks.hold(keys):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    # Every writer holds "hot" (in either order with another key): never two at once, no deadlock.
    await asyncio.wait_for(asyncio.gather(*(writer(["hot", f"k{i}"][:: 1 - 2 * (i % 2)]) for i in range(20))), 5)
    assert most == 1
    assert len(locks) == 0


async def test_writers_of_different_keys_do_not_wait_for_each_other() -> None:
    locks = KeyedLocks()
    entered = asyncio.Event()

    async def slow() -> None:
        async with locks.hold(["a"]):
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow())
    await entered.wait()
    async with asyncio.timeout(1), locks.hold(["b"]):
        pass
    task.cancel()


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = KeyedLocks()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold(["a"]):
            await release.wait()

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    await first
    await asyncio.gather(waiter, return_exceptions=True)
    assert len(locks) == 0
