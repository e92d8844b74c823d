"""The platform's processes (each app, each sidecar, the servers and control plane) and their CPU and memory."""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass
from enum import StrEnum

from bench.procfs import Usage, usage_by_group
from tools.stack import Stack
from tools.stack.processes import Managed


class Role(StrEnum):
    APP = "Python apps"
    SIDECAR = "sidecars (daprd)"
    SERVER = "servers and control plane"


@dataclass(frozen=True)
class Watched:
    """One process group of the platform, by the name the report gives it."""

    name: str
    role: Role
    pgid: int


def platform_processes(stack: Stack) -> list[Watched]:
    """Every process group the stack started: apps, sidecars, servers, sentry, placement, scheduler, janitor."""
    watched: list[Watched] = []

    def add(name: str, role: Role, managed: Managed | None) -> None:
        if managed is not None and managed.process is not None:
            watched.append(Watched(name, role, managed.process.pid))

    for app in stack.apps.values():
        add(f"{app.app_id}", Role.APP, app.app)
        add(f"{app.app_id} daprd", Role.SIDECAR, app.sidecar)
    for name, managed in stack.server_processes.items():
        add(name, Role.SERVER, managed)
    for name, control in (
        ("sentry", stack.sentry),
        ("placement", stack.placement),
        ("scheduler", stack.scheduler),
        ("janitor", stack.janitor),
    ):
        add(name, Role.SERVER, control)
    return watched


def client_cpu_ms() -> float:
    """CPU time this benchmark process has used so far (it is not part of the platform)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


@dataclass(frozen=True)
class Snapshot:
    """Every watched group's usage, the client's CPU and the time, at one moment."""

    at: float
    """time.monotonic()"""
    usage: dict[str, Usage]
    client_cpu_ms: float


def snapshot(watched: list[Watched]) -> Snapshot:
    groups = usage_by_group()
    usage = {w.name: groups.get(w.pgid, Usage(0.0, 0.0)) for w in watched}
    return Snapshot(time.monotonic(), usage, client_cpu_ms())


def cpu_ms_between(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Each process's CPU time (ms) from one snapshot to the next."""
    return {name: after.usage[name].cpu_ms - before.usage[name].cpu_ms for name in after.usage}


async def quiet(watched: list[Watched], *, idle_ms_per_s: float, bound: float) -> None:
    """Wait (at most `bound` s) until the platform burns no more than twice its idle CPU rate plus 50 ms/s.

    Events outlive the orders' last status change (notifications, analytics, stock events): a phase's
    CPU is counted until they are through, and the next phase starts on a quiet platform.
    """
    deadline = time.monotonic() + bound
    last = snapshot(watched)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = snapshot(watched)
        rate = sum(cpu_ms_between(last, now).values()) / (now.at - last.at)
        if rate <= 2 * idle_ms_per_s + 50:
            return
        last = now
