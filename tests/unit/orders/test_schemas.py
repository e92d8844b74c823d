"""orders' answer shape: amounts as numbers, timestamps in UTC with a `Z` even when SQLite dropped the zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.orders.domain import Order, OrderLine, OrderStatus
from apps.orders.schemas import OrderRead


def test_an_order_reads_with_utc_timestamps_and_numbers() -> None:
    naive = datetime(2026, 3, 4, 5, 6, 7)  # as SQLite hands a stored UTC time back
    order = Order(
        id="o-1",
        user_id="u-1",
        status=OrderStatus.PENDING_PAYMENT,
        total=Decimal("25.00"),
        lines=(OrderLine("p-1", "Pen", Decimal("12.50"), 2),),
        payment_token="tok_ok",
        created_at=naive,
        updated_at=naive.replace(tzinfo=UTC),
        expires_at=datetime(2026, 3, 4, 5, 21, 7, tzinfo=UTC),
    )
    wire: dict[str, Any] = OrderRead.of(order).wire()
    assert (wire["createdAt"], wire["updatedAt"], wire["expiresAt"]) == (
        "2026-03-04T05:06:07Z",
        "2026-03-04T05:06:07Z",
        "2026-03-04T05:21:07Z",
    )
    assert (wire["total"], wire["items"][0]["unitPrice"], wire["paymentId"]) == (25.0, 12.5, None)
