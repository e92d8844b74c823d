"""Whether the run kept the books: stock and payments conserved over every order the benchmark placed.

Stock: for the bench's products, initial stock == stock left + units of CONFIRMED orders + units
still reserved by orders PENDING_PAYMENT (orders cancelled or expired gave theirs back) + at most
the units of placements in doubt. A POST answered 5xx (or not at all) may have reserved stock for an
order that stays PLACING, which no reader sees, until orders' reaper fails it and releases the units
after the placing deadline (60 s): those units may be missing, no more. Payments: every CONFIRMED
order names its payment, and a sample of them is read back: one SUCCEEDED payment of the order's total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from bench.orders import CONFIRMED, OrderView
from bench.phases import OrderPhase
from bench.shop import PRODUCT_STOCK, Customer, data_of

HOLDING = frozenset({CONFIRMED, "PENDING_PAYMENT"})
"""Statuses whose units stay out of stock: committed, or reserved until paid or expired."""
PAYMENT_SAMPLE = 20


@dataclass(frozen=True)
class Books:
    initial_units: int
    stock_left: int
    units_held: int
    """Units in orders CONFIRMED or PENDING_PAYMENT."""
    units_in_doubt: int
    """Units of POSTs answered 5xx or not at all, and of accepted orders never read back."""
    confirmed_without_payment: int
    payments_checked: int
    payments_wrong: tuple[str, ...]

    @property
    def units_missing(self) -> int:
        """Units neither in stock nor in an order seen: reserved by placements in doubt, or lost."""
        return self.initial_units - self.stock_left - self.units_held

    @property
    def stock_conserved(self) -> bool:
        return 0 <= self.units_missing <= self.units_in_doubt

    @property
    def payments_conserved(self) -> bool:
        return self.confirmed_without_payment == 0 and not self.payments_wrong


def units_held(views: Iterable[OrderView], products: Iterable[str]) -> int:
    """Units of these products in orders that still hold stock."""
    wanted = set(products)
    return sum(n for v in views if v.status in HOLDING for p, n in v.units.items() if p in wanted)


async def _payment_problem(client: httpx.AsyncClient, view: OrderView, owner: Customer) -> str | None:
    answer = await client.get("/payments", params={"orderId": view.id}, headers=owner.auth)
    items = data_of(answer, expect=200)["items"]
    if not isinstance(items, list) or len(items) != 1:
        return f"order {view.id}: {items!r}"
    payment = items[0]
    if payment["status"] != "SUCCEEDED" or abs(float(payment["amount"]) - view.total) > 0.005:
        return f"order {view.id} (total {view.total}): payment {payment['status']} {payment['amount']}"
    return None


async def check_books(client: httpx.AsyncClient, products: list[str], phases: list[OrderPhase]) -> Books:
    left = 0
    for product_id in products:
        # catalog's own count, never the gateway's cached copy
        answer = await client.get(f"/products/{product_id}", headers={"Cache-Control": "no-cache"})
        left += int(data_of(answer, expect=200)["stock"])
    views = [v for phase in phases for v in phase.views.values()]
    owners = {s.outcome.order_id: s.outcome.customer for phase in phases for s in phase.accepted}
    # A refusal (4xx) stored nothing; a 5xx or a lost connection may have left an order behind. Each order is one unit.
    unclear = sum(1 for phase in phases for s in phase.sent if s.outcome.error and not s.outcome.error.startswith("4"))
    unseen = sum(1 for phase in phases for s in phase.accepted if s.outcome.order_id not in phase.views)
    confirmed = [v for v in views if v.status == CONFIRMED]
    sample = confirmed[:: max(1, len(confirmed) // PAYMENT_SAMPLE)]
    problems = [await _payment_problem(client, v, owners[v.id]) for v in sample]
    return Books(
        initial_units=PRODUCT_STOCK * len(products),
        stock_left=left,
        units_held=units_held(views, products),
        units_in_doubt=unclear + unseen,
        confirmed_without_payment=sum(1 for v in confirmed if v.payment_id is None),
        payments_checked=len(problems),
        payments_wrong=tuple(p for p in problems if p is not None),
    )
