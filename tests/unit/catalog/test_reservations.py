"""catalog's pure reservation steps: line merging, all-or-nothing reserve, commit and release."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog.domain import (
    InvalidQuantity,
    Product,
    ReservationReleased,
    ReservationStatus,
    StockReason,
    reservations,
)
from apps.catalog.domain.reservations import Reservation, ReservationLine, ReserveLine
from servicekit import ValidationFailed

PRODUCT = Product("p-1", "SKU-1", "Widget", Decimal("12.50"), stock=5, reserved=0)


def test_duplicate_lines_are_merged_in_first_seen_order() -> None:
    lines = [ReserveLine("b", 1), ReserveLine("a", 2), ReserveLine("b", 3)]
    assert list(reservations.merge_lines(lines).items()) == [("b", 4), ("a", 2)]


@pytest.mark.parametrize("quantity", [0, -1, 1001, 1.5, 2.0, True])
def test_quantities_outside_whole_1_to_1000_are_invalid(quantity: int | float) -> None:
    with pytest.raises(InvalidQuantity) as caught:
        reservations.merge_lines([ReserveLine("a", quantity)])
    assert (caught.value.code, caught.value.status) == ("INVALID_QUANTITY", 422)


@pytest.mark.parametrize("count", [0, 51])
def test_a_reservation_has_1_to_50_lines(count: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        reservations.merge_lines([ReserveLine(f"p{i}", 1) for i in range(count)])
    assert caught.value.code == "INVALID_ITEMS"


def test_reserve_builds_priced_lines_and_one_event_per_product() -> None:
    other = Product("p-2", "SKU-2", "Gadget", Decimal("0.10"), stock=3)
    moved = reservations.reserve("o-1", {"p-1": 2, "p-2": 3}, {"p-1": PRODUCT, "p-2": other})
    assert moved.reservation.status is ReservationStatus.RESERVED
    assert moved.reservation.items == (
        ReservationLine("p-1", "Widget", Decimal("12.50"), 2),
        ReservationLine("p-2", "Gadget", Decimal("0.10"), 3),
    )
    assert moved.reservation.total == Decimal("25.30")
    assert [(p.id, p.stock, p.reserved) for p in moved.products] == [("p-1", 3, 2), ("p-2", 0, 3)]
    assert [(e.product_id, e.change, e.reason, e.order_id) for e in moved.events] == [
        ("p-1", -2, StockReason.RESERVED, "o-1"),
        ("p-2", -3, StockReason.RESERVED, "o-1"),
    ]


def test_commit_and_release_follow_the_reservation_status() -> None:
    held = PRODUCT.reserve(2)
    reservation = Reservation("o-1", ReservationStatus.RESERVED, (ReservationLine("p-1", "Widget", Decimal(1), 2),))
    committed = reservations.commit(reservation, {"p-1": held})
    assert committed.reservation.status is ReservationStatus.COMMITTED
    assert [(e.change, e.reason) for e in committed.events] == [(0, StockReason.COMMITTED)]
    released = reservations.release(committed.reservation, {"p-1": committed.products[0]})
    assert released.reservation.status is ReservationStatus.RELEASED
    assert [(p.stock, p.reserved) for p in released.products] == [(5, 0)]
    assert [(e.change, e.reason) for e in released.events] == [(2, StockReason.RELEASED)]
    with pytest.raises(ReservationReleased):
        reservations.commit(released.reservation, {"p-1": released.products[0]})
