"""Closed-loop HTTP load with wrk (Debian's package), read through a Lua `done` hook that prints JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.servers import apt_install

SUMMARY_SCRIPT = Path(__file__).with_name("wrk_summary.lua")


class WrkMissing(RuntimeError):
    """Raised when wrk is not installed and `apt-get install wrk` did not install it."""


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    try:
        return apt_install("wrk", "wrk")
    except (subprocess.CalledProcessError, OSError, SystemExit) as exc:
        raise WrkMissing(
            f"wrk is needed for the HTTP figures and could not be installed ({exc}); "
            "install it with `apt-get install -y wrk` (as root) and run the benchmark again"
        ) from exc


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: how many requests in how long, how many failed, and the latency percentiles (ms)."""

    connections: int
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def parse_summary(output: str, connections: int) -> WrkResult:
    """The figures from wrk's output: the last line that is a JSON object (what wrk_summary.lua prints)."""
    line = next((line for line in reversed(output.splitlines()) if line.startswith("{")), None)
    if line is None:
        raise ValueError(f"wrk printed no summary: {output[-500:]!r}")
    figures = json.loads(line)
    return WrkResult(
        connections=connections,
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        non_2xx=int(figures["non_2xx"]),
        socket_errors=int(figures["socket_errors"]),
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
    )


def wrk_command(url: str, *, connections: int, seconds: float, headers: dict[str, str]) -> list[str]:
    """One thread per connection up to two (the machine has two cores), and the summary script."""
    command = ["wrk", "--threads", str(min(connections, 2)), "--connections", str(connections)]
    command += ["--duration", f"{max(1, round(seconds))}s", "--timeout", "10s", "--script", str(SUMMARY_SCRIPT)]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return [*command, url]


def run_wrk(url: str, *, connections: int, seconds: float, headers: dict[str, str]) -> WrkResult:
    """Load `url` with GETs from `connections` connections for `seconds`."""
    command = wrk_command(url, connections=connections, seconds=seconds, headers=headers)
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-500:] or done.stdout[-500:]}")
    return parse_summary(done.stdout, connections)
