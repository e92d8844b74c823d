"""An order as the gateway shows it, and what a phase of orders adds up to."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from bench.books import Books, units_held
from bench.orders import OrderView, utc_seconds
from tests.unit.bench.helpers import PHASE

BOOKS = Books(
    initial_units=100,
    stock_left=90,
    units_held=10,
    units_in_doubt=0,
    confirmed_without_payment=0,
    payments_checked=5,
    payments_wrong=(),
)


def _wire(order_id: str, status: str, created: str, updated: str) -> dict[str, object]:
    return {
        "id": order_id,
        "userId": "u-1",
        "status": status,
        "total": 3.0,
        "items": [
            {"productId": "p-1", "name": "W", "unitPrice": 1.5, "quantity": 1},
            {"productId": "p-1", "name": "W", "unitPrice": 1.5, "quantity": 1},
        ],
        "createdAt": created,
        "updatedAt": updated,
        "expiresAt": "2026-12-07T03:31:14.214938Z",
        "paymentId": "pay-1" if status == "CONFIRMED" else None,
        "cancelReason": None,
    }


def test_timestamps_are_utc_whatever_the_local_zone() -> None:
    assert utc_seconds("1970-01-01T00:00:01.500000Z") == 1.5


def test_the_view_keeps_status_times_payment_and_units_by_product() -> None:
    view = OrderView.of(_wire("o-1", "CONFIRMED", "2026-12-07T03:16:14.100000Z", "2026-12-07T03:16:14.310000Z"))
    assert view.status == "CONFIRMED"
    assert view.updated_at - view.created_at == pytest.approx(0.21)
    assert view.payment_id == "pay-1"
    assert view.units == {"p-1": 2}


def test_only_confirmed_orders_count_and_the_rest_say_why() -> None:
    assert [view.id for _, view in PHASE.confirmed] == ["o-0", "o-1"]
    assert PHASE.errors == Counter({"503 DATABASE_UNAVAILABLE": 1})
    assert PHASE.not_completed == Counter({"PENDING_PAYMENT": 1, "not found": 1})


def test_time_to_confirmed_runs_from_when_the_post_was_due() -> None:
    end_to_end = PHASE.to_confirmed_ms
    server = PHASE.server_to_confirmed_ms
    assert end_to_end is not None and server is not None
    assert (end_to_end.count, end_to_end.p50, end_to_end.p99) == pytest.approx((2, 100.0, 200.0))
    assert (server.p50, server.p99) == pytest.approx((90.0, 190.0))


def test_completion_rate_spans_the_first_order_due_to_the_last_confirmed() -> None:
    assert PHASE.completed_per_s == pytest.approx(2 / 0.7)


def test_cpu_per_order_divides_by_confirmed_orders() -> None:
    assert PHASE.cpu_ms_per_order() == 20.0
    assert PHASE.cpu_ms_per_order(["orders daprd"]) == 5.0


def test_units_held_counts_confirmed_and_pending_orders_of_the_products() -> None:
    views = [
        OrderView("a", "CONFIRMED", 0, 0, 3, "p", {"p-1": 2, "other": 5}),
        OrderView("b", "PENDING_PAYMENT", 0, 0, 1.5, None, {"p-1": 1}),
        OrderView("c", "CANCELLED", 0, 0, 1.5, None, {"p-1": 1}),
        OrderView("d", "EXPIRED", 0, 0, 1.5, None, {"p-2": 4}),
    ]
    assert units_held(views, ["p-1", "p-2"]) == 3


def test_stock_is_conserved_when_what_is_missing_is_at_most_what_placements_in_doubt_may_hold() -> None:
    exact = BOOKS
    assert exact.stock_conserved and exact.units_missing == 0
    held_by_doubt = replace(exact, stock_left=89, units_in_doubt=2)
    assert held_by_doubt.stock_conserved and held_by_doubt.units_missing == 1
    assert not replace(exact, stock_left=88, units_in_doubt=1).stock_conserved  # lost
    assert not replace(exact, stock_left=91, units_in_doubt=5).stock_conserved  # made up


def test_payments_are_conserved_when_every_confirmed_order_has_its_payment() -> None:
    books = BOOKS
    assert books.payments_conserved
    assert not replace(books, confirmed_without_payment=1).payments_conserved
    assert not replace(books, payments_wrong=("order o-1: []",)).payments_conserved
