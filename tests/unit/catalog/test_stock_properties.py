"""Properties of catalog's stock, checked over random sequences of reserve, commit and release.

Whatever the sequence: no count goes negative, no unit is lost or made (available + reserved + sold stays what
the product started with), and a reservation only takes the steps RESERVED -> COMMITTED -> RELEASED or
RESERVED -> RELEASED; an illegal step is refused with its domain error and changes nothing.
The pure steps are checked alone (no guard of the service in front of them), then the use cases over a fake store.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from apps.catalog import service
from apps.catalog.domain import OutOfStock, Product, ReservationReleased, ReservationStatus, reservations
from apps.catalog.domain.reservations import Reservation, ReserveLine, ReserveStock, StockMoved
from tests.unit.catalog.helpers import add_product, counts, new_store

RESERVED, COMMITTED, RELEASED = ReservationStatus.RESERVED, ReservationStatus.COMMITTED, ReservationStatus.RELEASED
LEGAL = {(RESERVED, COMMITTED), (RESERVED, RELEASED), (COMMITTED, RELEASED)}
PRODUCTS = ("p-1", "p-2", "p-3")
orders = st.sampled_from([f"order-{n}" for n in range(6)])
lines = st.dictionaries(st.sampled_from(PRODUCTS), st.integers(1, 8), min_size=1, max_size=3)
stocks = st.lists(st.integers(0, 15), min_size=len(PRODUCTS), max_size=len(PRODUCTS))
# Deterministic in CI (derandomize), no example database written under the checkout.
SEQUENCES = settings(max_examples=150, stateful_step_count=25, derandomize=True, deadline=None, database=None)


def held(found: dict[str, Reservation], status: ReservationStatus) -> Counter[str]:
    """Units per product in reservations of `status`."""
    units: Counter[str] = Counter()
    for reservation in found.values():
        if reservation.status is status:
            units.update({line.product_id: line.quantity for line in reservation.items})
    return units


class StockSteps(RuleBasedStateMachine):
    """The pure steps of `apps.catalog.domain.reservations`, applied as they answer."""

    def __init__(self) -> None:
        super().__init__()
        self.products: dict[str, Product] = {}
        self.initial: dict[str, int] = {}
        self.found: dict[str, Reservation] = {}

    @initialize(amounts=stocks)
    def stock_up(self, amounts: list[int]) -> None:
        for product_id, amount in zip(PRODUCTS, amounts, strict=True):
            self.products[product_id] = Product(product_id, f"SKU-{product_id}", "Widget", Decimal("2.50"), amount)
            self.initial[product_id] = amount

    def _apply(self, before: Reservation | None, moved: StockMoved) -> None:
        after = moved.reservation
        if before is not None and before.status is after.status:
            assert (moved.products, moved.events) == ([], []), "a repeated step moved units again"
        elif before is not None:
            assert (before.status, after.status) in LEGAL
        self.products.update({product.id: product for product in moved.products})
        self.found[after.order_id] = after

    @rule(order=orders, quantities=lines)
    def reserve(self, order: str, quantities: dict[str, int]) -> None:
        if order in self.found:  # the service answers the existing reservation; the step is never asked
            return
        short = any(quantity > self.products[pid].stock for pid, quantity in quantities.items())
        try:
            moved = reservations.reserve(order, quantities, self.products)
        except OutOfStock:
            assert short
            return
        assert not short and moved.reservation.status is RESERVED
        self._apply(None, moved)

    @rule(order=orders)
    def commit(self, order: str) -> None:
        before = self.found.get(order)
        if before is None:
            return
        try:
            moved = reservations.commit(before, self.products)
        except ReservationReleased:
            assert before.status is RELEASED
            return
        self._apply(before, moved)

    @rule(order=orders)
    def release(self, order: str) -> None:
        before = self.found.get(order)
        if before is not None:
            self._apply(before, reservations.release(before, self.products))

    @invariant()
    def counts_never_go_negative(self) -> None:
        assert all(p.stock >= 0 and p.reserved >= 0 for p in self.products.values())

    @invariant()
    def reserved_is_what_reservations_hold(self) -> None:
        holding = held(self.found, RESERVED)
        assert all(p.reserved == holding[p.id] for p in self.products.values())

    @invariant()
    def no_unit_is_lost_or_made(self) -> None:
        sold = held(self.found, COMMITTED)
        assert all(p.stock + p.reserved + sold[p.id] == self.initial[p.id] for p in self.products.values())


class CatalogUseCases(RuleBasedStateMachine):
    """The use cases over a fake sidecar's state store, with orders that come back in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store, self.fake = new_store()
        self.ids: list[str] = []
        self.initial: dict[str, int] = {}
        self.statuses: dict[str, ReservationStatus] = {}

    def teardown(self) -> None:
        self.loop.close()

    @initialize(amounts=stocks)
    def stock_up(self, amounts: list[int]) -> None:
        for amount in amounts:
            product = self.loop.run_until_complete(add_product(self.store, stock=amount))
            self.ids.append(product.id)
            self.initial[product.id] = amount

    def _moved(self, order: str, status: ReservationStatus) -> None:
        before = self.statuses.get(order)
        assert before is None or before is status or (before, status) in LEGAL
        self.statuses[order] = status

    @rule(order=orders, quantities=lines)
    def reserve(self, order: str, quantities: dict[str, int]) -> None:
        asked = [ReserveLine(self.ids[PRODUCTS.index(pid)], quantity) for pid, quantity in quantities.items()]
        try:
            reserved = self.loop.run_until_complete(
                service.reserve_stock(ReserveStock(order, asked), catalog=self.store)
            )
        except ReservationReleased:
            assert self.statuses[order] is RELEASED  # a released order id stays released
            return
        except OutOfStock:
            assert order not in self.statuses
            return
        assert reserved.created == (order not in self.statuses)
        self._moved(order, reserved.reservation.status)

    @rule(order=orders)
    def commit(self, order: str) -> None:
        if order not in self.statuses:
            return
        try:
            committed = self.loop.run_until_complete(service.commit_reservation(order, catalog=self.store))
        except ReservationReleased:
            assert self.statuses[order] is RELEASED
            return
        self._moved(order, committed.status)

    @rule(order=orders)
    def release(self, order: str) -> None:
        released = self.loop.run_until_complete(service.release_reservation(order, catalog=self.store))
        assert released.status is RELEASED
        self._moved(order, released.status)

    @invariant()
    def stored_counts_balance(self) -> None:
        found = {
            order: self.loop.run_until_complete(service.get_reservation(order, catalog=self.store))
            for order in self.statuses
        }
        assert {order: r.status for order, r in found.items()} == self.statuses
        holding, sold = held(found, RESERVED), held(found, COMMITTED)
        for product_id in self.ids:
            stock, reserved = counts(self.fake, product_id)
            assert stock >= 0 and reserved == holding[product_id]
            assert stock + reserved + sold[product_id] == self.initial[product_id]


TestStockSteps = StockSteps.TestCase
TestStockSteps.settings = SEQUENCES
TestCatalogUseCases = CatalogUseCases.TestCase
TestCatalogUseCases.settings = settings(SEQUENCES, max_examples=60)
