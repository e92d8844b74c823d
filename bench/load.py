"""Offered load: an open loop (a request every 1/rate seconds, whatever the answers) and a closed loop.

Latency figures come from the open loop: a request starts when its turn comes on the clock, not when
an earlier one is answered, so a slow answer cannot hide the queue behind it (coordinated omission).
The closed loop (N clients, each sending again as soon as it is answered) finds the saturation rate.
A `send` never raises: it turns every failure into the outcome it returns.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Send = Callable[[int], Awaitable[T]]
"""Send request number i and return its outcome."""


@dataclass(frozen=True)
class Sent(Generic[T]):
    """One request: when it was due (wall clock, to compare with the servers' timestamps) and how long it took."""

    index: int
    due_at: float
    """time.time() when the request was due to start."""
    latency_s: float
    """From when it was due to its answer (an open loop's request that started late counts the wait)."""
    outcome: T


async def _timed(send: Send[T], index: int, due_monotonic: float, due_wall: float) -> Sent[T]:
    outcome = await send(index)
    return Sent(index, due_wall, time.monotonic() - due_monotonic, outcome)


async def open_loop(send: Send[T], *, rate: float, seconds: float) -> list[Sent[T]]:
    """Start `rate * seconds` requests, one every 1/rate seconds on the clock; return them once all are answered."""
    start_monotonic, start_wall = time.monotonic(), time.time()
    tasks: list[asyncio.Task[Sent[T]]] = []
    for index in range(max(1, round(rate * seconds))):
        due = start_monotonic + index / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(_timed(send, index, due, start_wall + (due - start_monotonic))))
    return list(await asyncio.gather(*tasks))


async def closed_loop(send: Send[T], *, clients: int, seconds: float) -> list[Sent[T]]:
    """Run `clients` clients for `seconds`, each sending its next request when the last one is answered."""
    deadline = time.monotonic() + seconds
    numbers = itertools.count()
    sent: list[Sent[T]] = []

    async def client() -> None:
        while time.monotonic() < deadline:
            sent.append(await _timed(send, next(numbers), time.monotonic(), time.time()))

    await asyncio.gather(*(client() for _ in range(clients)))
    return sorted(sent, key=lambda s: s.index)
