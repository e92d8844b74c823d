"""Open loop on the clock, closed loop on the answers."""

from __future__ import annotations

import asyncio
import time

from bench.load import closed_loop, open_loop


def test_the_open_loop_starts_on_the_clock_even_when_answers_are_slow() -> None:
    started: list[float] = []

    async def slow(index: int) -> int:
        started.append(time.monotonic())
        await asyncio.sleep(0.2)  # slower than the 0.05 s between starts
        return index

    sent = asyncio.run(open_loop(slow, rate=20, seconds=0.5))
    assert [s.outcome for s in sent] == list(range(10))
    # Waiting for answers would take 10 x 0.2 s; on the clock the last starts about 0.45 s after the first.
    assert started[-1] - started[0] < 1.0
    assert all(s.latency_s >= 0.2 for s in sent)
    assert [round(s.due_at - sent[0].due_at, 3) for s in sent[:3]] == [0.0, 0.05, 0.1]


def test_the_closed_loop_keeps_each_client_to_one_request_at_a_time() -> None:
    in_flight = 0
    most = 0

    async def send(index: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return index

    sent = asyncio.run(closed_loop(send, clients=3, seconds=0.2))
    assert most == 3
    assert [s.index for s in sent] == list(range(len(sent)))
    assert 3 <= len(sent) <= 63  # at most 0.2 s / 0.01 s per client, plus the one each sends at the deadline
