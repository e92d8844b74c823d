"""What a sidecar adds: each route against the same app's route with the fewest sidecars."""

from __future__ import annotations

import pytest

from bench.hop import HopRun, Route, added_ms
from bench.wrk import WrkResult


def _run(app_id: str, sidecars: int, connections: int, p50: float, p99: float) -> HopRun:
    route = Route(app_id, "GET /x", sidecars, f"http://{app_id}/{sidecars}", {})
    return HopRun(route, WrkResult(connections, 1000, 1.0, 0, 0, p50, p50, p99, p99))


RUNS = [
    _run("catalog", 0, 16, 10.0, 30.0),
    _run("catalog", 1, 16, 10.6, 31.0),
    _run("catalog", 2, 16, 11.5, 29.0),
    _run("catalog", 0, 1, 1.0, 2.0),
    _run("catalog", 2, 1, 1.8, 4.0),
    _run("identity", 1, 16, 20.0, 50.0),
    _run("identity", 2, 16, 21.0, 55.0),
]


def test_added_is_over_the_direct_route_at_the_same_connections() -> None:
    sidecars, p50, p99 = added_ms(RUNS, RUNS[2]) or (0, 0.0, 0.0)
    assert sidecars == 2
    assert p50 == pytest.approx(1.5)
    assert p99 == pytest.approx(-1.0)
    assert added_ms(RUNS, RUNS[4]) == pytest.approx((2, 0.8, 2.0))


def test_an_app_without_a_direct_route_is_compared_with_its_own_sidecar() -> None:
    assert added_ms(RUNS, RUNS[6]) == pytest.approx((1, 1.0, 5.0))


def test_the_baseline_adds_nothing() -> None:
    assert added_ms(RUNS, RUNS[0]) is None
    assert added_ms(RUNS, RUNS[5]) is None
