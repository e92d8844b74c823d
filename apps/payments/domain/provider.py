"""The simulated card provider's rules: decisions follow the payment token, its books are keyed by idempotency key.

Like a real provider, it applies a charge once per idempotency key (payments sends the order id) and
answers a repeated call with the result it recorded, so a delivery that crashed after charging and is
redelivered learns the outcome instead of charging again. What it answers (`ChargeResult`, `LedgerEntry`)
is what payments' model reads; calling it and keeping its books is `apps.payments.peers`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

APPROVED_TOKEN = "tok_ok"  # noqa: S105 - a test card of the simulated provider, not a secret
DECLINED_TOKEN = "tok_decline"  # noqa: S105
HELD_TOKEN = "tok_hold"  # noqa: S105
CANCELLED_REASON = "PAYMENT_CANCELLED"


class Decision(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    HELD = "HELD"
    """Held for review: no decision yet (lets an order expire unpaid)."""


@dataclass(frozen=True)
class ChargeResult:
    decision: Decision
    reason: str | None = None


def decide(token: str) -> ChargeResult:
    """Decide a charge on the card behind `token`."""
    if token == APPROVED_TOKEN:
        return ChargeResult(Decision.APPROVED)
    if token == DECLINED_TOKEN:
        return ChargeResult(Decision.DECLINED, "INSUFFICIENT_FUNDS")
    if token == HELD_TOKEN:
        return ChargeResult(Decision.HELD)
    return ChargeResult(Decision.DECLINED, "INVALID_PAYMENT_TOKEN")


class LedgerStatus(StrEnum):
    CAPTURED = "CAPTURED"
    DECLINED = "DECLINED"
    HELD = "HELD"
    REFUNDED = "REFUNDED"
    """Captured, then given back."""
    RELEASED = "RELEASED"
    """Held, then let go: no money moved."""
    BLOCKED = "BLOCKED"
    """Cancelled before any charge: a later charge under the key is declined."""


@dataclass(frozen=True)
class LedgerEntry:
    """What the provider's books say about one idempotency key."""

    key: str
    status: LedgerStatus
    amount: Decimal
    reason: str | None
    charge_requests: int
    cancel_requests: int
    updated_at: datetime

    @property
    def captures(self) -> int:
        """How many times money was taken under this key: never more than once."""
        return 1 if self.status in (LedgerStatus.CAPTURED, LedgerStatus.REFUNDED) else 0

    @property
    def refunds(self) -> int:
        return 1 if self.status is LedgerStatus.REFUNDED else 0

    def result(self) -> ChargeResult:
        """The answer to a charge under this key: the first decision, whatever happened since."""
        if self.status in (LedgerStatus.CAPTURED, LedgerStatus.REFUNDED):
            return ChargeResult(Decision.APPROVED)
        if self.status in (LedgerStatus.HELD, LedgerStatus.RELEASED):
            return ChargeResult(Decision.HELD)
        return ChargeResult(Decision.DECLINED, self.reason)


_ON_CHARGE = {Decision.APPROVED: LedgerStatus.CAPTURED, Decision.DECLINED: LedgerStatus.DECLINED}
_ON_CANCEL = {LedgerStatus.CAPTURED: LedgerStatus.REFUNDED, LedgerStatus.HELD: LedgerStatus.RELEASED}


def first_charge(key: str, token: str, amount: Decimal, now: datetime) -> LedgerEntry:
    """The entry a key's first charge writes."""
    result = decide(token)
    status = _ON_CHARGE.get(result.decision, LedgerStatus.HELD)
    return LedgerEntry(key, status, amount, result.reason, 1, 0, now)


def charged_again(entry: LedgerEntry, now: datetime) -> LedgerEntry:
    return replace(entry, charge_requests=entry.charge_requests + 1, updated_at=now)


def block(key: str, amount: Decimal, now: datetime) -> LedgerEntry:
    """The entry a cancel writes when nothing was charged yet."""
    return LedgerEntry(key, LedgerStatus.BLOCKED, amount, CANCELLED_REASON, 0, 1, now)


def cancelled(entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """Refund a capture, release a hold; anything else stays as it is."""
    status = _ON_CANCEL.get(entry.status, entry.status)
    return replace(entry, status=status, cancel_requests=entry.cancel_requests + 1, updated_at=now)
