"""One phase of orders: offer a load, wait until the orders are final, and keep what each process spent on them."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

import httpx

from bench.anatomy import Anatomy, Counts
from bench.load import Send, Sent
from bench.orders import CONFIRMED, OrderView, Placed, place, settle
from bench.processes import Watched, cpu_ms_between, quiet, snapshot
from bench.shop import Customer
from bench.stats import Spread

Drive = Callable[[Send[Placed]], Awaitable[list[Sent[Placed]]]]
"""Runs the load (open_loop or closed_loop with its settings bound) with a send."""
Scrape = Callable[[], Awaitable[Mapping[str, Counts]]]
"""Reads every app's operation counters (bench.anatomy.scrape on a stack)."""
POLL_INTERVAL = 1.0
"""How often the orders still open are read once the platform is quiet (an order waiting on a retry, say)."""
SETTLE_BOUND = 60.0
"""How long after the last placement an order may take to become final before it counts as not completed."""


@dataclass(frozen=True)
class OrderPhase:
    name: str
    load: str
    """How the load was offered, in words."""
    sent: list[Sent[Placed]]
    views: dict[str, OrderView]
    cpu_ms: dict[str, float]
    """Each platform process's CPU time (ms) from the first placement until the platform was quiet again."""
    client_cpu_ms: float
    anatomy: Anatomy | None = None
    """What each app did per CONFIRMED order, when the phase counted it."""

    @property
    def accepted(self) -> list[Sent[Placed]]:
        return [s for s in self.sent if s.outcome.order_id is not None]

    @property
    def errors(self) -> Counter[str]:
        """POST /orders answers other than 201, by status and error code."""
        return Counter(s.outcome.error for s in self.sent if s.outcome.error is not None)

    @property
    def confirmed(self) -> list[tuple[Sent[Placed], OrderView]]:
        pairs = [(s, self.views.get(str(s.outcome.order_id))) for s in self.accepted]
        return [(s, v) for s, v in pairs if v is not None and v.status == CONFIRMED]

    @property
    def not_completed(self) -> Counter[str]:
        """Accepted orders that were not CONFIRMED in the bound, by their last status."""
        last = (self.views.get(str(s.outcome.order_id)) for s in self.accepted)
        return Counter(v.status if v else "not found" for v in last if v is None or v.status != CONFIRMED)

    @property
    def accept_ms(self) -> Spread | None:
        """POST /orders until its 201, counted from when the request was due."""
        return Spread.of([s.latency_s * 1000 for s in self.accepted])

    @property
    def to_confirmed_ms(self) -> Spread | None:
        """From when POST /orders was due (client clock) to the order's CONFIRMED (orders' updatedAt)."""
        return Spread.of([(v.updated_at - s.due_at) * 1000 for s, v in self.confirmed])

    @property
    def server_to_confirmed_ms(self) -> Spread | None:
        """From createdAt to CONFIRMED, both written by orders."""
        return Spread.of([(v.updated_at - v.created_at) * 1000 for _, v in self.confirmed])

    @property
    def completed_per_s(self) -> float:
        """CONFIRMED orders per second, from the first order due to the last one confirmed."""
        confirmed = self.confirmed
        if not confirmed:
            return 0.0
        span = max(v.updated_at for _, v in confirmed) - min(s.due_at for s in self.sent)
        return len(confirmed) / span if span > 0 else 0.0

    def cpu_ms_per_order(self, names: list[str] | None = None) -> float | None:
        """CPU time per CONFIRMED order of the named processes (all when None)."""
        if not self.confirmed:
            return None
        spent = sum(ms for name, ms in self.cpu_ms.items() if names is None or name in names)
        return spent / len(self.confirmed)


async def run_phase(
    name: str,
    load: str,
    drive: Drive,
    *,
    client: httpx.AsyncClient,
    customers: list[Customer],
    products: list[str],
    watched: list[Watched],
    idle_ms_per_s: float,
    settle_bound: float = SETTLE_BOUND,
    scrape: Scrape | None = None,
) -> OrderPhase:
    """Drive the load, wait until its orders are final and the platform is quiet again, and measure.

    Order i is one unit of product i mod P by customer i mod C. With `scrape`, the phase also counts each
    app's operations per order (its counters read before the first placement and once everything settled).
    """

    async def send(index: int) -> Placed:
        return await place(client, customers[index % len(customers)], products[index % len(products)])

    counted = await scrape() if scrape is not None else None
    before = snapshot(watched)
    sent = await drive(send)
    placed = time.monotonic()
    # Wait on the CPU, not on the API: polling hundreds of open orders would load the platform it measures.
    await quiet(watched, idle_ms_per_s=idle_ms_per_s, bound=settle_bound)
    left = max(0.0, settle_bound - (time.monotonic() - placed))
    views = await settle(client, [s.outcome for s in sent], interval=POLL_INTERVAL, bound=left)
    after = snapshot(watched)
    phase = OrderPhase(
        name=name,
        load=load,
        sent=sent,
        views=views,
        cpu_ms=cpu_ms_between(before, after),
        client_cpu_ms=after.client_cpu_ms - before.client_cpu_ms,
    )
    if scrape is None or counted is None:
        return phase
    return replace(phase, anatomy=Anatomy.between(counted, await scrape(), len(phase.confirmed)))
