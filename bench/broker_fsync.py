"""What losing no acknowledged event costs: Redis stream appends under `appendfsync everysec` and `always`.

    python -m bench.broker_fsync [--requests 20000]

Starts a throwaway redis-server per policy on a free loopback port (data in a temporary folder),
runs `redis-benchmark` XADD with 1 and with 8 clients, and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

from tools.servers import apt_install, redis_answers
from tools.stack.processes import free_port, wait_for

POLICIES = ("everysec", "always")
CLIENTS = (1, 8)
BENCHMARK = ("redis-benchmark", "-h", "127.0.0.1")
APPEND = ("XADD", "bench", "*", "field", "value")
_RESULT = re.compile(r"([\d.]+) requests per second, p50=([\d.]+) msec")


def _appends(port: int, clients: int, requests: int) -> tuple[float, float]:
    """Stream appends per second and their median latency (ms) with this many clients."""
    output = subprocess.run(
        [*BENCHMARK, "-p", str(port), "-n", str(requests), "-c", str(clients), "-q", *APPEND],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    found = _RESULT.findall(output)
    if not found:
        raise RuntimeError(f"redis-benchmark said: {output[-300:]}")
    rate, p50 = found[-1]
    return float(rate), float(p50)


def measure(policy: str, requests: int) -> list[tuple[int, float, float]]:
    binary = apt_install("redis-server", "redis-server")
    apt_install("redis-tools", "redis-benchmark")
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", data, "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", policy]
        with (Path(data) / "redis.log").open("wb") as log:
            server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: redis_answers(port), timeout=15, what=f"redis-server ({policy})")
            return [(clients, *_appends(port, clients, requests)) for clients in CLIENTS]
        finally:
            server.terminate()
            server.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    print("| appendfsync | clients | XADD/s | p50 ms |\n|---|---:|---:|---:|")
    for policy in POLICIES:
        for clients, rate, p50 in measure(policy, args.requests):
            print(f"| {policy} | {clients} | {rate:,.0f} | {p50:.3f} |", flush=True)


if __name__ == "__main__":
    main()
