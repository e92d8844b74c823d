"""The fault schedule: SIGKILL one part of the platform, wait, restart it; one fault after another."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tools.chaos.load import Signals
from tools.chaos.plan import Plan
from tools.stack import Stack

Step = Callable[[Stack], None]


@dataclass(frozen=True)
class Fault:
    name: str
    kill: Step
    restart: Step
    during_tenant_creation: bool = False


@dataclass
class Window:
    """When a fault was injected and when the part reported ready again (monotonic seconds)."""

    name: str
    killed: float
    recovered: float
    tenant_in_flight: bool | None = None
    error: str | None = None

    def overlaps(self, started: float, ended: float, breaker_seconds: float = 0.0) -> bool:
        """Did a request overlap the fault, counting a breaker's open window after the part was back?"""
        return started <= self.recovered + breaker_seconds and ended >= self.killed


def _app(app_id: str) -> Step:
    return lambda stack: stack.restart(app_id)


SCHEDULE: tuple[Fault, ...] = (
    Fault("SIGKILL payments app", lambda s: s.kill_app("payments"), _app("payments")),
    Fault("SIGKILL orders' sidecar", lambda s: s.kill_sidecar("orders"), _app("orders")),
    Fault("SIGKILL catalog app and sidecar", lambda s: s.kill_both("catalog"), _app("catalog")),
    Fault("SIGKILL the broker", lambda s: s.kill_broker(), lambda s: s.start_broker()),
    Fault("SIGKILL admin mid tenant creation", lambda s: s.kill_app("admin"), _app("admin"), True),
    Fault("SIGKILL provisioner mid tenant creation", lambda s: s.kill_app("provisioner"), _app("provisioner"), True),
)


def inject(stack: Stack, plan: Plan, signals: Signals, schedule: tuple[Fault, ...] = SCHEDULE) -> list[Window]:
    """Run the schedule (blocking; meant for a worker thread while the load runs on the event loop)."""
    windows: list[Window] = []
    time.sleep(plan.warmup)
    for fault in schedule:
        in_flight: bool | None = None
        if fault.during_tenant_creation:
            signals.tenant_allowance += plan.tenants_per_fault
            signals.tenant_phase.set()
            # Strike while a creation is on its way through admin and provisioner (bounded wait).
            in_flight = signals.tenant_in_flight.wait(timeout=30)
            time.sleep(0.3)
            in_flight = in_flight and signals.tenant_in_flight.is_set()
        killed = time.monotonic()
        error = None
        fault.kill(stack)
        time.sleep(plan.down)
        for attempt in range(2):
            try:
                fault.restart(stack)
                break
            except (RuntimeError, TimeoutError, SystemExit) as exc:
                error = f"restart attempt {attempt + 1} failed: {exc}"
                if attempt == 0:
                    fault.kill(stack)  # what half-started is killed too before the second try
        windows.append(Window(fault.name, killed, time.monotonic(), in_flight, error))
        time.sleep(plan.gap)  # creations go on for a while after the restart: the part must be callable
        signals.tenant_phase.clear()
    return windows
