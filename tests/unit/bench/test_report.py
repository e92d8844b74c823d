"""The generated report replaces only what lies between its markers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.anatomy import Anatomy, Operation
from bench.books import Books
from bench.events import EventFloor
from bench.goals import Goal
from bench.hop import HopRun, Route
from bench.load import Sent
from bench.passwords import Timed
from bench.processes import Role, Watched
from bench.procfs import Usage
from bench.report import BEGIN, END, Machine, RunResults, render, replace_between_markers, write_between_markers
from bench.wrk import WrkResult
from tests.unit.bench.helpers import PHASE


def test_the_block_between_the_markers_is_replaced_and_the_rest_kept() -> None:
    text = f"# Benchmarks\n\nintro\n\n{BEGIN}\nold figures\n{END}\n\n## Hand-written\n\nkept\n"
    new = replace_between_markers(text, f"{BEGIN}\nnew figures\n{END}\n")
    assert new == f"# Benchmarks\n\nintro\n\n{BEGIN}\nnew figures\n{END}\n\n## Hand-written\n\nkept\n"


def test_a_file_without_markers_gets_the_block_below_its_title() -> None:
    block = f"{BEGIN}\nfigures\n{END}\n"
    with_title = replace_between_markers("# Benchmarks\n\n## Fsync\ntext\n", block)
    assert with_title == f"# Benchmarks\n\n{block}\n## Fsync\ntext\n"
    assert replace_between_markers("no title\n", block) == f"{block}\nno title\n"


def test_writing_twice_leaves_one_block(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    write_between_markers(path, "first\n")
    path.write_text(path.read_text() + "\n## Hand-written\n")
    write_between_markers(path, "second\n")
    text = path.read_text()
    assert text == f"# Benchmarks\n\n{BEGIN}\nsecond\n{END}\n\n## Hand-written\n"


def test_a_run_renders_every_section_with_its_figures() -> None:
    watched = [
        Watched("orders", Role.APP, 10),
        Watched("orders daprd", Role.SIDECAR, 11),
        Watched("redis", Role.SERVER, 12),
    ]
    wrk = WrkResult(16, 3000, 2.0, 0, 0, 9.0, 20.0, 30.0, 40.0)
    route = Route("catalog", "GET /products/{id}", 1, "http://a", {}, ("catalog", "catalog daprd"))
    counted = Anatomy(
        {"orders": {Operation.SERVED: 2.0, Operation.STATE_READ: 1.0, Operation.STATE_WRITE: 1.0}},
        {"orders": {"GetState": 1.0, "ExecuteStateTransaction": 1.0}},
    )
    books = Books(2_000_000, 1_999_998, 2, 0, 0, 2, ())
    results = RunResults(
        command="`python -m bench.run`",
        finished="2026-12-07 03:28 UTC",
        seconds=180.0,
        machine=Machine(2, "3.11.7", "1.18.3", "local"),
        watched=watched,
        idle_cpu_ms_per_s={"orders": 5.0, "orders daprd": 2.0, "redis": 1.0},
        phases=[replace(PHASE, anatomy=counted)],
        users_me=wrk,
        users_me_cpu_ms={"orders": 1.5, "orders daprd": 0.5, "redis": 0.25},
        passwords=[Timed("POST /auth/login", 4, 2.0, [Sent(0, 0.0, 0.08, None), Sent(1, 0.0, 0.09, "401 X")])],
        hops=[HopRun(route, wrk, {"catalog": 1.25, "catalog daprd": 0.75, "redis": 0.1})],
        event_floor=EventFloor(500, 4.0, {"orders": 0.5, "orders daprd": 0.25, "redis": 0.125, "sentry": 0.0}),
        rss_at_import_mib={"orders": 110.4},
        memory={w.name: Usage(0.0, 130.0 if w.role == Role.APP else 20.0) for w in watched},
        books=books,
        goals=[Goal("≥ 50 completed orders/s", "2.9/s", False)],
    )
    text = render(results)
    assert "`python -m bench.run`, finished 2026-12-07 03:28 UTC after 180 s: 2 cores" in text
    assert "| ≥ 50 completed orders/s | 2.9/s | **no** |" in text
    assert "| steady | open loop | 5 | 503 DATABASE_UNAVAILABLE: 1 | 2 | PENDING_PAYMENT: 1, not found: 1 |" in text
    assert "| orders | 15.0 | 5.0 |" in text
    assert "| **platform total** | 20.0 | 8.0 |" in text
    assert "| POST /auth/login | 4 clients, closed loop | 1 | 80 / 90 / 90 | 401 X: 1 |" in text
    assert "| orders | Python apps | 130 **over** | 110 |" in text
    assert "| redis | servers and control plane | 20 | – |" in text  # noqa: RUF001 - the report's en dash
    # two CONFIRMED orders: orders spent 15 ms and its sidecar 5 ms on each, over 4 operations
    assert "| orders | 2.0 | 1.0 | 1.0 | 0.0 | 0.0 | 0.0 | 3.75 | 1.25 |" in text
    assert "The busiest Dapr API methods per order: orders GetState 1.0, orders ExecuteStateTransaction 1.0." in text
    assert "orders 1.50, orders daprd 0.50, redis 0.25 (all processes: 2.25)" in text
    assert "| 1.25 / 0.75 |" in text
    assert "| orders | Python apps | 0.50 |\n| orders daprd | sidecars (daprd) | 0.25 |\n| redis |" in text
    assert "| **every process** | | **0.88** |" in text and "| sentry |" not in text
    assert "conserved" in text and "NOT" not in text
