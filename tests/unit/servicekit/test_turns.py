"""Writers of one key within an instance take turns; other keys do not wait; a key nobody holds is forgotten."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.conflicts import Turns

pytestmark = pytest.mark.anyio


async def test_writers_of_one_key_take_turns_and_other_keys_do_not_wait() -> None:
    turns = Turns()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}

    async def write(key: str) -> None:
        async with turns.of(key):
            inside[key] += 1
            most[key] = max(most[key], sum(inside.values()) if key == "b" else inside[key])
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            inside[key] -= 1

    await asyncio.gather(*(write("a") for _ in range(5)), *(write("b") for _ in range(5)))
    assert most["a"] == 1  # one writer of "a" at a time
    assert most["b"] == 2  # a writer of "b" ran while one of "a" did
    assert len(turns) == 0


async def test_a_writer_that_failed_hands_the_turn_on() -> None:
    turns = Turns()
    order: list[str] = []

    async def failing() -> None:
        async with turns.of("k"):
            await asyncio.sleep(0)
            order.append("failed")
            raise RuntimeError("boom")

    async def next_one() -> None:
        async with turns.of("k"):
            order.append("next")

    results = await asyncio.gather(failing(), next_one(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert order == ["failed", "next"]
    assert len(turns) == 0
