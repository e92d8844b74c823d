"""Where an order's CPU goes: py-spy samples of every Python app while orders run at saturation.

    python -m bench.profile [--seconds 30] [--clients 16] [--output .data/profiles]

Boots the benchmark's stack, places orders in a closed loop and records each app with py-spy
(a sampling profiler that attaches from outside, so the apps run unchanged; `--gil` samples only
the thread holding the GIL, i.e. Python at work, not threads waiting on SQLite or a socket). Prints
each app's CPU per order by thread from /proc, writes one collapsed-stack file per app and prints,
per app, the frames that hold the most samples ("own": where the time went, "total": with callees).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx

from bench.load import closed_loop
from bench.orders import place
from bench.run import UNLIMITED
from bench.shop import admin_auth, new_customers, new_products
from tools.stack import Stack
from tools.stack.stack import ROOT, new_run_dir


def thread_cpu_ms(pid: int) -> dict[str, float]:
    """CPU ms by thread name (threads of one name summed) from /proc/<pid>/task/*/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    spent: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        spent[name] = spent.get(name, 0.0) + (int(fields[11]) + int(fields[12])) * 1000 / ticks
    return spent


def hottest(collapsed: Path, top: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """From py-spy's collapsed stacks: (own samples by frame, total samples by frame, all samples)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    return own.most_common(top), total.most_common(top), samples


async def _orders(stack: Stack, seconds: float, clients: int) -> int:
    base = f"{stack.apps['gateway'].app_url}/api/v1"
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=128)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        customers = await new_customers(client, "profile", clients)
        products = await new_products(client, await admin_auth(client), os.urandom(4).hex(), 8)
        pairs = itertools.cycle(itertools.product(customers, products))

        async def send(_index: int) -> object:
            customer, product = next(pairs)
            return await place(client, customer, product)

        return len(await closed_loop(send, clients=clients, seconds=seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--output", type=Path, default=ROOT / ".data" / "profiles")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    args.output.mkdir(parents=True, exist_ok=True)
    stack = Stack(new_run_dir("bench-runs"), rate_limit_tiers=UNLIMITED)
    try:
        stack.start()
        recorders = {
            app_id: subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(app.app.process.pid),
                    "--duration",
                    str(int(args.seconds)),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--gil",
                    "--output",
                    str(args.output / f"{app_id}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for app_id, app in stack.apps.items()
            if app.app is not None and app.app.process is not None
        }
        before = {
            app_id: thread_cpu_ms(app.app.process.pid)
            for app_id, app in stack.apps.items()
            if app.app and app.app.process
        }
        placed = asyncio.run(_orders(stack, args.seconds + 5, args.clients))
        after = {
            app_id: thread_cpu_ms(app.app.process.pid)
            for app_id, app in stack.apps.items()
            if app.app and app.app.process
        }
        for recorder in recorders.values():
            recorder.wait(timeout=120)
    finally:
        stack.stop()
    print(f"{placed} orders placed")
    for app_id, threads in after.items():
        spent = {name: ms - before[app_id].get(name, 0.0) for name, ms in threads.items()}
        print(
            app_id,
            ", ".join(
                f"{name} {ms / placed:.1f} ms/order" for name, ms in sorted(spent.items(), key=lambda kv: -kv[1])[:5]
            ),
        )
    for app_id in recorders:
        own, total, samples = hottest(args.output / f"{app_id}.txt", args.top)
        print(f"\n== {app_id}: {samples} samples")
        print("-- own")
        for frame, count in own:
            print(f"{count * 100 / max(samples, 1):5.1f}%  {frame}")
        print("-- total")
        for frame, count in total:
            print(f"{count * 100 / max(samples, 1):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
