"""Payments: the pure model, its commands, events and errors. No web, no sidecar, no provider calls.

What the simulated card provider decides and records is `provider`: its answers are what this model reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from apps.payments.domain.provider import ChargeResult, Decision, LedgerEntry, LedgerStatus
from servicekit import DependencyUnavailable

CENT = Decimal("0.01")
EXPIRED_REASON = "ORDER_EXPIRED"


def to_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class PaymentStatus(StrEnum):
    CHARGING = "CHARGING"
    """The intent, written before the provider is called; a redelivery or a close finishes it."""
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"


class PaymentNotRecorded(DependencyUnavailable):
    """Raised when the CHARGING record just written cannot be read back; the delivery is retried."""

    default_code = "STATE_UNAVAILABLE"


@dataclass(frozen=True)
class ChargeOrder:
    """Command: take the payment of a freshly created order."""

    order_id: str
    user_id: str
    amount: Decimal
    payment_token: str


@dataclass(frozen=True)
class CloseOrder:
    """Command: the order was cancelled or expired; give money back or make sure none is taken."""

    order_id: str
    user_id: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class Payment:
    id: str
    order_id: str
    user_id: str
    amount: Decimal
    status: PaymentStatus
    reason: str | None
    created_at: datetime
    updated_at: datetime
    token: str | None = None
    """The card token, kept only while CHARGING so whoever finishes the charge sends the same one."""

    def settled(self, status: PaymentStatus, reason: str | None, now: datetime) -> Payment:
        return replace(self, status=status, reason=reason, updated_at=now, token=None)


@dataclass(frozen=True)
class PaymentSucceeded:
    """Event: the order's amount was captured."""

    payment: Payment
    topic = "payment.succeeded"

    def payload(self) -> dict[str, Any]:
        p = self.payment
        return {"paymentId": p.id, "orderId": p.order_id, "userId": p.user_id, "amount": float(p.amount)}


@dataclass(frozen=True)
class PaymentFailed:
    """Event: the provider declined the charge."""

    payment: Payment
    topic = "payment.failed"

    def payload(self) -> dict[str, Any]:
        p = self.payment
        return {
            "paymentId": p.id,
            "orderId": p.order_id,
            "userId": p.user_id,
            "amount": float(p.amount),
            "reason": p.reason,
        }


PaymentEvent = PaymentSucceeded | PaymentFailed


def _new_payment(
    order_id: str, user_id: str, amount: Decimal, status: PaymentStatus, reason: str | None, now: datetime
) -> Payment:
    return Payment(uuid.uuid4().hex, order_id, user_id, to_money(amount), status, reason, now, now)


def begin_charge(command: ChargeOrder, now: datetime) -> Payment:
    """The CHARGING intent recorded before the provider hears of the charge."""
    payment = _new_payment(command.order_id, command.user_id, command.amount, PaymentStatus.CHARGING, None, now)
    return replace(payment, token=command.payment_token)


def record_charge(payment: Payment, result: ChargeResult, now: datetime) -> tuple[Payment, PaymentEvent | None]:
    """The payment a provider decision leaves, and the event announcing it (none while held)."""
    if result.decision is Decision.APPROVED:
        settled = payment.settled(PaymentStatus.SUCCEEDED, None, now)
        return settled, PaymentSucceeded(settled)
    if result.decision is Decision.DECLINED:
        settled = payment.settled(PaymentStatus.FAILED, result.reason or "DECLINED", now)
        return settled, PaymentFailed(settled)
    return payment.settled(PaymentStatus.PENDING, None, now), None


def record_close(payment: Payment, entry: LedgerEntry, reason: str, now: datetime) -> Payment:
    """The payment of a closed order once the provider cancelled its key: refunded, failed, or voided."""
    if entry.status is LedgerStatus.REFUNDED:
        return payment.settled(PaymentStatus.REFUNDED, reason, now)
    if entry.status is LedgerStatus.DECLINED:
        return payment.settled(PaymentStatus.FAILED, entry.reason or "DECLINED", now)
    return payment.settled(PaymentStatus.VOIDED, reason, now)


def void_before_charge(command: CloseOrder, now: datetime) -> Payment:
    """A VOIDED record for an order closed before its charge arrived, so a late charge takes nothing."""
    return _new_payment(command.order_id, command.user_id, command.amount, PaymentStatus.VOIDED, command.reason, now)
