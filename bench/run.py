"""Measure the platform through its public edge, with real sidecars, and write docs/benchmarks.md.

    python -m bench.run [--output docs/benchmarks.md] [--scale 1.0]

Boots the same stack the end-to-end tests use (free loopback ports, rate limits lifted so the
limiter does not shape the numbers), runs each scenario for a fixed number of requests at a fixed
concurrency, then reads every process's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools.stack import Stack
from tools.stack.stack import DAPRD, ROOT, new_run_dir

Call = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
PRODUCTS = 20


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: int
    concurrency: int
    call: Call
    target_p95_ms: float


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    seconds: float
    latencies_ms: list[float]
    failures: Counter[str]
    """Each answer of 400 or more, as `<status> <error code>`."""

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_scenario(client: httpx.AsyncClient, scenario: Scenario) -> Result:
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    counter = iter(range(scenario.requests))

    async def worker() -> None:
        for index in counter:
            started = time.perf_counter()
            response = await scenario.call(client, index)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 400:
                failures[f"{response.status_code} {_error_code(response)}"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(scenario.concurrency)))
    return Result(scenario, time.perf_counter() - started, latencies, failures)


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "(no envelope)"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(stack: Stack, scale: float) -> tuple[list[Result], dict[str, float]]:
    base = f"{stack.apps['gateway'].app_url}/api/v1"
    tag = uuid.uuid4().hex[:8]
    password = "benchmark-password"  # noqa: S105 - a throwaway account of the benchmark run
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        seed = f"bench-{tag}@example.com"
        await client.post("/auth/register", json={"email": seed, "password": password, "name": "Bench"})
        login = await client.post("/auth/login", json={"email": seed, "password": password})
        auth = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
        admin = await client.post("/auth/login", json={"email": "admin@junction.local", "password": "junction-admin"})
        admin_auth = {"Authorization": f"Bearer {admin.json()['data']['accessToken']}"}
        products = [
            (
                await client.post(
                    "/products",
                    json={"sku": f"BENCH-{tag}-{n}", "name": f"Bench widget {n}", "price": 1.5, "stock": 1_000_000},
                    headers=admin_auth,
                )
            ).json()["data"]["id"]
            for n in range(PRODUCTS)
        ]

        def order(i: int) -> dict[str, object]:
            """Orders spread over the catalogue the way real traffic is; each buys one unit."""
            item = {"productId": products[i % PRODUCTS], "quantity": 1}
            return {"items": [item], "paymentMethod": {"token": "tok_ok"}}

        def n(count: int) -> int:
            return max(10, int(count * scale))

        scenarios = [
            Scenario("GET /health (gateway only)", n(3000), 8, lambda c, i: c.get("/health"), 50),
            Scenario(
                "GET /users/me (gateway → 2 sidecars → identity → DB)",
                n(3000),
                8,
                lambda c, i: c.get("/users/me", headers=auth),
                100,
            ),
            Scenario(
                "POST /auth/login (Argon2id verify)",
                n(300),
                4,
                lambda c, i: c.post("/auth/login", json={"email": seed, "password": password}),
                500,
            ),
            Scenario(
                "POST /auth/register (Argon2id hash + outbox + publish)",
                n(300),
                4,
                lambda c, i: c.post(
                    "/auth/register", json={"email": f"b{i}-{tag}@example.com", "password": password, "name": "Bench"}
                ),
                500,
            ),
            Scenario(
                f"POST /orders over {PRODUCTS} products (gateway → orders → identity + catalog; outbox)",
                n(300),
                8,
                lambda c, i: c.post("/orders", json=order(i), headers=auth),
                2500,
            ),
        ]
        results = [await run_scenario(client, scenario) for scenario in scenarios]
    memory: dict[str, float] = {}
    for app in stack.apps.values():
        for managed, label in ((app.app, "app"), (app.sidecar, "daprd")):
            if managed is not None and managed.process is not None:
                memory[f"{app.app_id} {label}"] = rss_mib(managed.process.pid)
    return results, memory


def render(results: list[Result], memory: dict[str, float], command: str) -> str:
    daprd = subprocess.run([str(DAPRD), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, daprd {daprd}, profile `local` (SQLite state, Redis Streams).",
        "Every request goes to the gateway on 127.0.0.1, which reaches the services through real sidecars.",
        "Rate limits are lifted for the run; the client runs on the same 2 cores as the whole stack.",
        "",
        "| scenario | requests | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors | p95 target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        p95 = r.percentile(0.95)
        lines.append(
            f"| {r.scenario.name} | {r.scenario.requests} | {r.scenario.concurrency} | "
            f"{r.scenario.requests / r.seconds:.0f} | {statistics.median(r.latencies_ms):.1f} | {p95:.1f} | "
            f"{r.percentile(0.99):.1f} | {r.errors} | {r.scenario.target_p95_ms:.0f} | "
            f"{'yes' if p95 <= r.scenario.target_p95_ms and r.errors == 0 else 'NO'} |"
        )
    failed = [r for r in results if r.failures]
    if failed:
        lines += ["", "Errors by status and code:"]
        for r in failed:
            lines.append(f"- {r.scenario.name}: " + ", ".join(f"{n} of {k}" for k, n in r.failures.most_common()))
    lines += [
        "",
        "Targets are for this 2-core machine, where the load generator and all 19 processes of the",
        "platform share the cores. The read paths are held to interactive latencies. Password",
        "scenarios include a deliberate Argon2id hash (OWASP parameters). An order is the heaviest",
        "path: besides the request itself (identity lookup, catalog reservation, orders' outbox) each",
        "order sets off about fifteen event deliveries (payment, confirmation, stock, notifications,",
        "analytics), so at concurrency 8 the whole pipeline saturates both cores and latency is mostly",
        "queueing; its target is set accordingly and the throughput is the figure to watch.",
        "",
        "Resident memory after the run (target: every app under 150 MiB, every sidecar under 200 MiB;",
        "daprd is built with every component, which is most of its footprint):",
        "",
    ]
    lines += ["| process | RSS MiB | met |", "|---|---:|---|"]
    lines += [
        f"| {name} | {mib:.0f} | {'yes' if mib < (200 if name.endswith('daprd') else 150) else 'NO'} |"
        for name, mib in sorted(memory.items())
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every scenario's request count")
    args = parser.parse_args()
    unlimited: list[dict[str, object]] = [{"name": "default", "paths": ["/"], "limits": ["1000000/second"]}]
    stack = Stack(new_run_dir("bench-runs"), rate_limit_tiers=unlimited)
    try:
        stack.start()
        results, memory = asyncio.run(measure(stack, args.scale))
    finally:
        stack.stop()
    command = "make bench" if args.scale == 1.0 else f"python -m bench.run --scale {args.scale}"
    report = render(results, memory, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
