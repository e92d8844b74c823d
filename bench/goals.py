"""Issue 11's goals for a 2-core machine (the load client on the same cores), each judged met or not."""

from __future__ import annotations

from dataclasses import dataclass

CPU_MS_PER_ORDER = 40.0
COMPLETED_PER_S = 50.0
P50_AT_5_MS, P95_AT_5_MS, P95_AT_40_MS = 60.0, 120.0, 500.0
USERS_ME_PER_S = 1500.0
HOP_P50_MS, HOP_P99_MS = 1.0, 3.0
APP_RSS_MIB = 120.0


@dataclass(frozen=True)
class Figures:
    """What the goals are judged on; None when the run could not measure it."""

    cpu_ms_per_order: float | None
    completed_per_s: float
    saturation_errors: int
    """POSTs refused or failed, and accepted orders not CONFIRMED, in the saturation phase."""
    stock_conserved: bool
    payments_conserved: bool
    p50_at_5_ms: float | None
    p95_at_5_ms: float | None
    p95_at_40_ms: float | None
    users_me_per_s: float | None
    hop_p50_added_ms: float | None
    hop_p99_added_ms: float | None
    app_rss_mib: dict[str, float]


@dataclass(frozen=True)
class Goal:
    goal: str
    measured: str
    met: bool


def _ms(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.1f} ms"


def _added(value: float | None) -> str:
    return "not measured" if value is None else f"{value:+.2f} ms"


def _at_most(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def evaluate(f: Figures) -> list[Goal]:
    heaviest = max(f.app_rss_mib.items(), key=lambda item: item[1], default=("none", 0.0))
    stock = "stock conserved" if f.stock_conserved else "stock NOT conserved"
    payments = "payments conserved" if f.payments_conserved else "payments NOT conserved"
    return [
        Goal(
            f"≤ {CPU_MS_PER_ORDER:.0f} ms of CPU per completed order, every process of the platform",
            "not measured" if f.cpu_ms_per_order is None else f"{f.cpu_ms_per_order:.1f} ms",
            _at_most(f.cpu_ms_per_order, CPU_MS_PER_ORDER),
        ),
        Goal(
            f"≥ {COMPLETED_PER_S:.0f} completed orders/s at saturation, 0 errors, stock and payments conserved",
            f"{f.completed_per_s:.1f}/s, {f.saturation_errors} errors, {stock}, {payments}",
            f.completed_per_s >= COMPLETED_PER_S
            and f.saturation_errors == 0
            and f.stock_conserved
            and f.payments_conserved,
        ),
        Goal(
            f"POST /orders → CONFIRMED at 5 orders/s: p50 ≤ {P50_AT_5_MS:.0f} ms, p95 ≤ {P95_AT_5_MS:.0f} ms",
            f"p50 {_ms(f.p50_at_5_ms)}, p95 {_ms(f.p95_at_5_ms)}",
            _at_most(f.p50_at_5_ms, P50_AT_5_MS) and _at_most(f.p95_at_5_ms, P95_AT_5_MS),
        ),
        Goal(
            f"POST /orders → CONFIRMED at 40 orders/s: p95 ≤ {P95_AT_40_MS:.0f} ms",
            f"p95 {_ms(f.p95_at_40_ms)}",
            _at_most(f.p95_at_40_ms, P95_AT_40_MS),
        ),
        Goal(
            f"GET /users/me through the gateway ≥ {USERS_ME_PER_S:,.0f} req/s",
            "not measured" if f.users_me_per_s is None else f"{f.users_me_per_s:,.0f} req/s",
            f.users_me_per_s is not None and f.users_me_per_s >= USERS_ME_PER_S,
        ),
        Goal(
            f"two sidecars add ≤ {HOP_P50_MS:.1f} ms p50 and ≤ {HOP_P99_MS:.0f} ms p99 at 16 connections",
            f"p50 {_added(f.hop_p50_added_ms)}, p99 {_added(f.hop_p99_added_ms)}",
            _at_most(f.hop_p50_added_ms, HOP_P50_MS) and _at_most(f.hop_p99_added_ms, HOP_P99_MS),
        ),
        Goal(
            f"every app ≤ {APP_RSS_MIB:.0f} MiB RSS after the benchmark",
            f"largest: {heaviest[0]} {heaviest[1]:.0f} MiB",
            bool(f.app_rss_mib) and all(mib <= APP_RSS_MIB for mib in f.app_rss_mib.values()),
        ),
    ]
