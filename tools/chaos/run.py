"""One chaos run: boot the stack, put load on it while faults strike, let it settle, read the books."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from tools.chaos.books import Books, reconcile
from tools.chaos.calls import Recorder
from tools.chaos.errors import ErrorBook, classify
from tools.chaos.faults import Window, inject
from tools.chaos.load import Load, prepare
from tools.chaos.plan import Plan
from tools.stack import Stack
from tools.stack.stack import ROOT

UNLIMITED: list[dict[str, object]] = [{"name": "default", "paths": ["/"], "limits": ["1000000/second"]}]
RESILIENCY = ROOT / "components" / "common" / "resiliency.yaml"
FALLBACK_BUDGET = 15.0


@dataclass
class Outcome:
    plan: Plan
    run_dir: Path
    budgets: dict[str, float]
    load: Load
    windows: list[Window]
    errors: ErrorBook
    books: Books
    seconds: float
    profile: str = "local"
    """The component profile the stack ran on (JUNCTION_PROFILE)."""

    @property
    def findings(self) -> list[str]:
        faults = [f"{w.name}: {w.error}" for w in self.windows if w.error]
        return faults + self.errors.findings + self.books.findings


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration.strip())
    if match is None:
        raise ValueError(duration)
    return float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2]]


def budget_of(app_id: str) -> float:
    """The gateway's timeout towards an app, from the resiliency YAML (what a client may be kept waiting)."""
    try:
        spec = yaml.safe_load(RESILIENCY.read_text())["spec"]
        return _seconds(spec["policies"]["timeouts"][spec["targets"]["apps"][app_id]["timeout"]])
    except (OSError, KeyError, TypeError, ValueError):
        return FALLBACK_BUDGET


def breaker_open_seconds() -> float:
    """How long an opened breaker waits before its trial call (resiliency.yaml's `peer` breaker)."""
    try:
        spec = yaml.safe_load(RESILIENCY.read_text())["spec"]
        return _seconds(spec["policies"]["circuitBreakers"]["peer"]["timeout"])
    except (OSError, KeyError, TypeError, ValueError):
        return 0.0


async def drive(stack: Stack, plan: Plan) -> Outcome:
    """Load and faults at the same time, then the books; the stack is already up."""
    begun = time.monotonic()
    budgets = {"default": budget_of("orders"), "POST /orders": budget_of("orders"), "POST /tenants": budget_of("admin")}
    base = f"{stack.apps['gateway'].app_url}/api/v1"
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=base, timeout=budgets["default"] + 5, limits=limits) as client:
        load = await prepare(Recorder(client), plan, budgets["POST /orders"], budgets["POST /tenants"])
        workers = [asyncio.create_task(load.order_worker(n)) for n in range(plan.order_workers)]
        workers += [asyncio.create_task(load.tenant_worker()) for _ in range(plan.tenant_workers)]
        try:
            windows = await asyncio.to_thread(inject, stack, plan, load.signals)
            await asyncio.sleep(plan.after)
        finally:
            load.signals.stop.set()
            await asyncio.wait_for(asyncio.gather(*workers), timeout=4 * budgets["POST /tenants"])
        books = await reconcile(load, stack, settle_within=plan.payment_window + plan.settle_margin)
    errors = classify(load.recorder.calls, windows, budgets, breaker_seconds=breaker_open_seconds())
    return Outcome(plan, stack.run_dir, budgets, load, windows, errors, books, time.monotonic() - begun, stack.profile)


def run(plan: Plan, run_dir: Path) -> Outcome:
    """Boot a stack of its own (orders' payment window from the plan), drive it, always stop it."""
    stack = Stack(
        run_dir,
        rate_limit_tiers=UNLIMITED,
        app_env={"orders": {"PAYMENT_TIMEOUT_SECONDS": str(plan.payment_window)}},
    )
    try:
        stack.start()
        return asyncio.run(drive(stack, plan))
    except Exception as exc:
        exc.add_note(f"stack logs (tails):\n{stack.log_tails(15)}")
        raise
    finally:
        stack.stop()
