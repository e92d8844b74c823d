"""Measure the platform with real sidecars and write the figures into docs/benchmarks.md (`make bench`).

    python -m bench.run [--output docs/benchmarks.md] [--profile local] [--scale 1.0]

Boots the stack the end-to-end tests use (free loopback ports, the gateway's rate limits lifted so
they do not shape the numbers), then, in about three minutes with the stack's start:

1. GET /users/me through the gateway with wrk (16 connections), login and register briefly;
2. the sidecar hop: one GET direct, through one sidecar and through two, with wrk at 1 and 16 connections;
   then the least an event costs: 500 replays published by admin's sidecar to the gateway's bare handler;
3. orders, counted when CONFIRMED: open loop at a steady 5/s, then 40/s, then a closed loop of 16
   customers for the saturation figure, each phase with every platform process's CPU time (bench.phases);
4. the books (stock and payments conserved), every process's resident memory, and each app's at import;

and judges issue 11's goals (bench.goals). `--scale 0.2` runs every step a fifth as long: a smoke run.
The report goes between two markers of the output file (bench.report); the hand-written sections
around them stay as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from bench.anatomy import scrape
from bench.books import Books, check_books
from bench.events import EventFloor, EventsNotDelivered, measure_event_floor
from bench.goals import Figures, evaluate
from bench.hop import HopRun, added_ms, cpu_per_request, hop_routes, measure_hops
from bench.imports import rss_at_import_mib
from bench.load import closed_loop, open_loop
from bench.passwords import logins, registrations
from bench.phases import OrderPhase, run_phase
from bench.processes import Role, Watched, cpu_ms_between, platform_processes, snapshot
from bench.procfs import Usage
from bench.report import Machine, RunResults, render, write_between_markers
from bench.shop import admin_auth, new_customers, new_products
from bench.wrk import WrkMissing, WrkResult, ensure_wrk, run_wrk
from tools.stack import Stack
from tools.stack.stack import DAPRD, ROOT, new_run_dir

UNLIMITED: list[dict[str, object]] = [{"name": "default", "paths": ["/"], "limits": ["1000000/second"]}]
PRODUCTS = 20
EVENTS = 500
"""Events published for the least an event costs (bench.events)."""
HOP_CONNECTIONS = (1, 16)
EDGE_CONNECTIONS = 16


@dataclass(frozen=True)
class Plan:
    """How long each step runs: the full durations (seconds) times `scale`."""

    scale: float

    def seconds(self, full: float, least: float = 1.0) -> float:
        return max(least, full * self.scale)


async def _idle_cpu(watched: list[Watched], seconds: float) -> dict[str, float]:
    """Each process's CPU time (ms) per second while nothing is asked of the platform."""
    before = snapshot(watched)
    await asyncio.sleep(seconds)
    after = snapshot(watched)
    return {name: ms / (after.at - before.at) for name, ms in cpu_ms_between(before, after).items()}


async def _event_floor(stack: Stack, watched: list[Watched], idle: dict[str, float], plan: Plan) -> EventFloor | None:
    """The least an event costs; none (said on stderr) if the gateway did not count every event in time."""
    try:
        return await measure_event_floor(stack, watched, idle_ms_per_s=idle, count=max(50, round(EVENTS * plan.scale)))
    except EventsNotDelivered as exc:
        print(f"bench: the least an event costs is not measured: {exc}", file=sys.stderr)
        return None


async def _hops(stack: Stack, product_id: str, user_id: str, plan: Plan, watched: list[Watched]) -> list[HopRun]:
    routes = hop_routes(stack, product_id=product_id, user_id=user_id)
    async with httpx.AsyncClient(timeout=30) as warm:
        for route in routes:  # the first call through a route dials connections and fetches certificates
            (await warm.get(route.url, headers=route.headers)).raise_for_status()
    run = partial(measure_hops, routes, connections=HOP_CONNECTIONS, seconds=plan.seconds(5), watched=watched)
    return await asyncio.to_thread(run)


async def _order_phases(
    client: httpx.AsyncClient, stack: Stack, watched: list[Watched], idle: float, plan: Plan
) -> tuple[list[str], list[OrderPhase]]:
    """The three phases of orders on products and customers of their own; the products' ids and the phases."""
    admin = await admin_auth(client)
    products = await new_products(client, admin, os.urandom(4).hex(), PRODUCTS)
    steady, busy, saturating = (
        await new_customers(client, "steady", 4),
        await new_customers(client, "busy", 8),
        await new_customers(client, "saturation", 16),
    )
    seconds = plan.seconds(20, least=2)
    phase = partial(run_phase, client=client, products=products, watched=watched, idle_ms_per_s=idle)
    phases = [
        await phase(
            "steady 5/s",
            f"open loop, 5 orders/s for {seconds:.0f} s",
            partial(open_loop, rate=5, seconds=seconds),
            customers=steady,
        ),
        await phase(
            "steady 40/s",
            f"open loop, 40 orders/s for {seconds:.0f} s",
            partial(open_loop, rate=40, seconds=seconds),
            customers=busy,
        ),
        await phase(
            "saturation",
            f"closed loop, 16 customers for {seconds:.0f} s",
            partial(closed_loop, clients=16, seconds=seconds),
            customers=saturating,
            scrape=partial(scrape, stack),
        ),
    ]
    return products, phases


async def measure(stack: Stack, plan: Plan, machine: Machine, command: str, started: float) -> RunResults:
    """Every step against a started stack; `started` (time.monotonic()) is when the whole run began."""
    watched = platform_processes(stack)
    base = f"{stack.apps['gateway'].app_url}/api/v1"
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        (customer,) = await new_customers(client, "edge", 1)
        (await client.get("/users/me", headers=customer.auth)).raise_for_status()
        me = partial(
            run_wrk,
            f"{base}/users/me",
            connections=EDGE_CONNECTIONS,
            seconds=plan.seconds(8, least=2),
            headers=customer.auth,
        )
        before_me = snapshot(watched)
        users_me = await asyncio.to_thread(me)
        users_me_cpu = cpu_per_request(cpu_ms_between(before_me, snapshot(watched)), users_me.requests)
        passwords = [
            await logins(client, customer, plan.seconds(4)),
            await registrations(client, plan.seconds(4)),
        ]
        products_for_hops = await new_products(client, await admin_auth(client), os.urandom(4).hex(), 1)
        hops = await _hops(stack, products_for_hops[0], customer.user_id, plan, watched)
        await asyncio.sleep(2)  # the last registrations' events
        idle = await _idle_cpu(watched, plan.seconds(5, least=2))
        event_floor = await _event_floor(stack, watched, idle, plan)
        products, phases = await _order_phases(client, stack, watched, sum(idle.values()), plan)
        books = await check_books(client, products, phases)
    memory = snapshot(watched).usage
    at_import = {w.name: rss_at_import_mib(w.name) for w in watched if w.role == Role.APP}
    figures = _figures(phases, users_me, hops, books, watched, memory)
    return RunResults(
        command=command,
        finished=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        seconds=time.monotonic() - started,
        machine=machine,
        watched=watched,
        idle_cpu_ms_per_s=idle,
        phases=phases,
        users_me=users_me,
        users_me_cpu_ms=users_me_cpu,
        passwords=passwords,
        hops=hops,
        event_floor=event_floor,
        rss_at_import_mib=at_import,
        memory=memory,
        books=books,
        goals=evaluate(figures),
    )


def _daprd_version() -> str:
    return subprocess.run([str(DAPRD), "--version"], capture_output=True, text=True, check=False).stdout.strip()


def _command() -> str:
    """The command line of this run, in Markdown; make sets MAKELEVEL for what it runs."""
    own = f"`{' '.join(['python -m bench.run', *sys.argv[1:]])}`"
    return f"`make bench` ({own})" if "MAKELEVEL" in os.environ else own


def _figures(
    phases: list[OrderPhase],
    users_me: WrkResult,
    hops: list[HopRun],
    books: Books,
    watched: list[Watched],
    memory: dict[str, Usage],
) -> Figures:
    steady_5, steady_40, saturation = phases
    at_5, at_40 = steady_5.to_confirmed_ms, steady_40.to_confirmed_ms
    two = next(h for h in hops if h.route.app_id == "catalog" and h.route.sidecars == 2 and h.result.connections == 16)
    added = added_ms(hops, two)
    return Figures(
        cpu_ms_per_order=saturation.cpu_ms_per_order(),
        completed_per_s=saturation.completed_per_s,
        saturation_errors=sum(saturation.errors.values()) + sum(saturation.not_completed.values()),
        stock_conserved=books.stock_conserved,
        payments_conserved=books.payments_conserved,
        p50_at_5_ms=None if at_5 is None else at_5.p50,
        p95_at_5_ms=None if at_5 is None else at_5.p95,
        p95_at_40_ms=None if at_40 is None else at_40.p95,
        users_me_per_s=(users_me.requests - users_me.errors) / users_me.seconds,
        hop_p50_added_ms=None if added is None else added[1],
        hop_p99_added_ms=None if added is None else added[2],
        app_rss_mib={w.name: memory[w.name].rss_mib for w in watched if w.role == Role.APP},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--profile", default="local", help="the component profile (components/<name>/)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step's duration (0.2: a smoke run)")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        ensure_wrk()
    except WrkMissing as exc:
        raise SystemExit(f"bench: {exc}") from exc
    machine = Machine(os.cpu_count() or 0, platform.python_version(), _daprd_version(), args.profile)
    stack = Stack(new_run_dir("bench-runs"), profile=args.profile, rate_limit_tiers=UNLIMITED)
    try:
        stack.start()
        results = asyncio.run(measure(stack, Plan(args.scale), machine, _command(), started))
    finally:
        stack.stop()
    report = render(results)
    write_between_markers(args.output, report)
    print(report)


if __name__ == "__main__":
    main()
