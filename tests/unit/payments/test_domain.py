"""The simulated provider's decisions and the payments they leave."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.payments import provider
from apps.payments.domain import (
    ChargeOrder,
    CloseOrder,
    PaymentFailed,
    PaymentStatus,
    PaymentSucceeded,
    record_charge,
    void_before_charge,
)
from apps.payments.provider import Decision

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("token", "decision", "reason"),
    [
        ("tok_ok", Decision.APPROVED, None),
        ("tok_decline", Decision.DECLINED, "INSUFFICIENT_FUNDS"),
        ("tok_hold", Decision.HELD, None),
        ("tok_unknown", Decision.DECLINED, "INVALID_PAYMENT_TOKEN"),
        ("", Decision.DECLINED, "INVALID_PAYMENT_TOKEN"),
    ],
)
def test_provider_decides_by_token(token: str, decision: Decision, reason: str | None) -> None:
    result = provider.charge(token, Decimal("10.00"))
    assert (result.decision, result.reason) == (decision, reason)


def test_approved_charge_succeeds_and_announces_it() -> None:
    command = ChargeOrder("o-1", "u-1", Decimal("19.999"), "tok_ok")
    payment, event = record_charge(command, provider.charge("tok_ok", command.amount), NOW)
    assert (payment.status, payment.reason, payment.amount) == (PaymentStatus.SUCCEEDED, None, Decimal("20.00"))
    assert isinstance(event, PaymentSucceeded)
    assert event.topic == "payment.succeeded"
    assert event.payload() == {"paymentId": payment.id, "orderId": "o-1", "userId": "u-1", "amount": 20.0}


def test_declined_charge_fails_with_the_reason() -> None:
    command = ChargeOrder("o-1", "u-1", Decimal("5.10"), "tok_decline")
    payment, event = record_charge(command, provider.charge("tok_decline", command.amount), NOW)
    assert (payment.status, payment.reason) == (PaymentStatus.FAILED, "INSUFFICIENT_FUNDS")
    assert isinstance(event, PaymentFailed)
    assert event.payload() == {
        "paymentId": payment.id,
        "orderId": "o-1",
        "userId": "u-1",
        "amount": 5.1,
        "reason": "INSUFFICIENT_FUNDS",
    }


def test_held_charge_is_pending_without_event() -> None:
    command = ChargeOrder("o-1", "u-1", Decimal("5"), "tok_hold")
    payment, event = record_charge(command, provider.charge("tok_hold", command.amount), NOW)
    assert payment.status is PaymentStatus.PENDING
    assert event is None


def test_void_before_charge_keeps_the_reason() -> None:
    payment = void_before_charge(CloseOrder("o-1", "u-1", Decimal("3.5"), "ORDER_EXPIRED"), NOW)
    assert (payment.status, payment.reason, payment.amount) == (PaymentStatus.VOIDED, "ORDER_EXPIRED", Decimal("3.50"))
