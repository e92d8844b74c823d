"""payments' wire shapes (camelCase JSON)."""

from __future__ import annotations

from apps.payments.domain import Payment
from apps.payments.domain.provider import LedgerEntry
from servicekit.schemas import Schema


class PaymentRead(Schema):
    id: str
    order_id: str
    amount: float
    status: str
    reason: str | None

    @classmethod
    def of(cls, payment: Payment) -> PaymentRead:
        return cls(
            id=payment.id,
            order_id=payment.order_id,
            amount=float(payment.amount),
            status=payment.status.value,
            reason=payment.reason,
        )


class PaymentList(Schema):
    items: list[PaymentRead]


class LedgerEntryRead(Schema):
    """The provider's books for one idempotency key (the order id)."""

    key: str
    status: str
    amount: float
    reason: str | None
    captures: int
    refunds: int
    charge_requests: int
    cancel_requests: int

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryRead:
        return cls(
            key=entry.key,
            status=entry.status.value,
            amount=float(entry.amount),
            reason=entry.reason,
            captures=entry.captures,
            refunds=entry.refunds,
            charge_requests=entry.charge_requests,
            cancel_requests=entry.cancel_requests,
        )


class LedgerList(Schema):
    items: list[LedgerEntryRead]
