"""payments' wire shapes (camelCase JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from apps.payments.domain import Payment


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


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
