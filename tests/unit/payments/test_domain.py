"""The simulated provider's decisions and the payments they leave."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.payments.domain import (
    ChargeOrder,
    CloseOrder,
    Payment,
    PaymentFailed,
    PaymentStatus,
    PaymentSucceeded,
    begin_charge,
    provider,
    record_charge,
    record_close,
    void_before_charge,
)
from apps.payments.domain.provider import Decision, LedgerStatus, block, cancelled, charged_again, first_charge

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def charging(command: ChargeOrder) -> Payment:
    intent = begin_charge(command, NOW)
    assert (intent.status, intent.token) == (PaymentStatus.CHARGING, command.payment_token)
    return intent


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
    result = provider.decide(token)
    assert (result.decision, result.reason) == (decision, reason)


def test_approved_charge_succeeds_and_announces_it() -> None:
    command = ChargeOrder("o-1", "u-1", Decimal("19.999"), "tok_ok")
    payment, event = record_charge(charging(command), provider.decide("tok_ok"), NOW)
    assert (payment.status, payment.reason, payment.amount) == (PaymentStatus.SUCCEEDED, None, Decimal("20.00"))
    assert isinstance(event, PaymentSucceeded)
    assert event.topic == "payment.succeeded"
    assert event.payload() == {"paymentId": payment.id, "orderId": "o-1", "userId": "u-1", "amount": 20.0}


def test_declined_charge_fails_with_the_reason() -> None:
    command = ChargeOrder("o-1", "u-1", Decimal("5.10"), "tok_decline")
    payment, event = record_charge(charging(command), provider.decide("tok_decline"), NOW)
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
    payment, event = record_charge(charging(command), provider.decide("tok_hold"), NOW)
    assert payment.status is PaymentStatus.PENDING
    assert event is None


def test_void_before_charge_keeps_the_reason() -> None:
    payment = void_before_charge(CloseOrder("o-1", "u-1", Decimal("3.5"), "ORDER_EXPIRED"), NOW)
    assert (payment.status, payment.reason, payment.amount) == (PaymentStatus.VOIDED, "ORDER_EXPIRED", Decimal("3.50"))


def test_settling_keeps_the_intents_id_and_forgets_the_token() -> None:
    intent = charging(ChargeOrder("o-1", "u-1", Decimal("5"), "tok_ok"))
    payment, _ = record_charge(intent, provider.decide("tok_ok"), NOW)
    assert (payment.id, payment.created_at, payment.token) == (intent.id, intent.created_at, None)


def test_provider_books_charge_once_then_answer_the_first_result() -> None:
    entry = first_charge("o-1", "tok_ok", Decimal("5"), NOW)
    assert (entry.status, entry.captures, entry.refunds) == (LedgerStatus.CAPTURED, 1, 0)
    again = charged_again(entry, NOW)
    assert (again.charge_requests, again.captures, again.result()) == (2, 1, entry.result())
    refunded = cancelled(cancelled(again, NOW), NOW)
    assert (refunded.status, refunded.captures, refunded.refunds) == (LedgerStatus.REFUNDED, 1, 1)
    assert refunded.result().decision is Decision.APPROVED  # the same key still answers what it did


@pytest.mark.parametrize(
    ("token", "status"),
    [("tok_decline", LedgerStatus.DECLINED), ("tok_hold", LedgerStatus.RELEASED)],
)
def test_cancel_gives_back_nothing_that_was_not_taken(token: str, status: LedgerStatus) -> None:
    entry = cancelled(first_charge("o-1", token, Decimal("5"), NOW), NOW)
    assert (entry.status, entry.captures, entry.refunds) == (status, 0, 0)


def test_cancel_before_any_charge_blocks_the_key() -> None:
    blocked = charged_again(block("o-1", Decimal("5"), NOW), NOW)
    assert (blocked.captures, blocked.result().decision, blocked.result().reason) == (
        0,
        Decision.DECLINED,
        "PAYMENT_CANCELLED",
    )


@pytest.mark.parametrize(
    ("ledger_status", "payment_status"),
    [
        (LedgerStatus.REFUNDED, PaymentStatus.REFUNDED),
        (LedgerStatus.DECLINED, PaymentStatus.FAILED),
        (LedgerStatus.RELEASED, PaymentStatus.VOIDED),
        (LedgerStatus.BLOCKED, PaymentStatus.VOIDED),
    ],
)
def test_a_close_records_what_the_provider_did(ledger_status: LedgerStatus, payment_status: PaymentStatus) -> None:
    intent = charging(ChargeOrder("o-1", "u-1", Decimal("5"), "tok_ok"))
    entry = first_charge("o-1", "tok_decline", Decimal("5"), NOW)
    closed = record_close(intent, replace(entry, status=ledger_status), "ORDER_EXPIRED", NOW)
    assert closed.status is payment_status
    assert closed.reason == ("INSUFFICIENT_FUNDS" if payment_status is PaymentStatus.FAILED else "ORDER_EXPIRED")
