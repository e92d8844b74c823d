"""A simulated card provider: decisions follow the payment token, nothing leaves the process.

A real provider would receive the payment id as an idempotency key, so a charge or refund sent
twice by two racing deliveries is applied once; this one is pure, so repeating a call is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

APPROVED_TOKEN = "tok_ok"  # noqa: S105 - a test card of the simulated provider, not a secret
DECLINED_TOKEN = "tok_decline"  # noqa: S105
HELD_TOKEN = "tok_hold"  # noqa: S105


class Decision(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    HELD = "HELD"
    """Held for review: no decision yet (lets an order expire unpaid)."""


@dataclass(frozen=True)
class ChargeResult:
    decision: Decision
    reason: str | None = None


def charge(token: str, amount: Decimal) -> ChargeResult:
    """Decide a charge of `amount` on the card behind `token`."""
    if token == APPROVED_TOKEN:
        return ChargeResult(Decision.APPROVED)
    if token == DECLINED_TOKEN:
        return ChargeResult(Decision.DECLINED, "INSUFFICIENT_FUNDS")
    if token == HELD_TOKEN:
        return ChargeResult(Decision.HELD)
    return ChargeResult(Decision.DECLINED, "INVALID_PAYMENT_TOKEN")


def refund(payment_id: str, amount: Decimal) -> None:
    """Give a captured amount back; the simulated provider always accepts, so there is nothing to decide."""
