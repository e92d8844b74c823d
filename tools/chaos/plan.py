"""How big and how long a chaos run is: counts, pauses and the payment window, all bounded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """One run's sizes and timings (seconds); every loop of the suite is bounded by these."""

    name: str
    customers: int = 20
    products: int = 5
    stock: int = 5000
    scarce_stock: int = 40
    """One more product with little stock, so OUT_OF_STOCK races are part of the load."""
    scarce_share: float = 0.1
    """The share of orders that ask for the scarce product too."""
    order_workers: int = 8
    order_interval: float = 1.5
    """Each worker places at most one order per interval: about 5 orders/s, below what 2 cores carry
    (make bench measures that), so a 5xx here means a fault's effect, not an overloaded machine."""
    max_orders: int = 2000
    order_attempts: int = 8
    cancel_every: int = 12
    """Every n-th accepted tok_ok order is cancelled by its customer (exercises refunds and release)."""
    tenant_workers: int = 1
    """One admin creating schools one after another. Two at once meant a breaker's single trial call
    (a whole tenant creation, ~0.7 s) turned the other away after admin's restart: a 503 the suite
    would blame on the platform rather than on the breaker's recovery it belongs to."""
    tenants_per_fault: int = 6
    """Tenant creations allowed around each of the admin and provisioner faults."""
    warmup: float = 6.0
    down: float = 3.0
    gap: float = 5.0
    after: float = 12.0
    """Load that keeps running once the last fault is over: zero 5xx expected there."""
    payment_window: int = 150
    """orders' PAYMENT_TIMEOUT_SECONDS: longer than the whole fault schedule."""
    settle_margin: float = 40.0
    load_cap: float = 420.0
    seed: int = 7


FULL = Plan("full")
SHORT = Plan(
    "short",
    order_workers=6,
    order_interval=1.0,
    max_orders=600,
    tenants_per_fault=3,
    warmup=3.0,
    down=2.0,
    gap=3.0,
    after=8.0,
    payment_window=75,
    settle_margin=25.0,
    load_cap=200.0,
)
