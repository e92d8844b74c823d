"""orders' wire shapes (camelCase JSON)."""

from __future__ import annotations

from pydantic import Field

from apps.orders.domain import MAX_LINES, Order
from servicekit.clock import utc_text
from servicekit.schemas import Schema


class LineCreate(Schema):
    product_id: str = Field(min_length=1, max_length=64)
    quantity: int


class PaymentMethod(Schema):
    token: str = Field(min_length=1, max_length=64)


class OrderCreate(Schema):
    user_id: str = Field(min_length=1, max_length=64)
    items: list[LineCreate] = Field(min_length=1, max_length=MAX_LINES)
    payment_method: PaymentMethod


class OrderCancel(Schema):
    user_id: str = Field(min_length=1, max_length=64)
    is_admin: bool = False


class LineRead(Schema):
    product_id: str
    name: str
    unit_price: float
    quantity: int


class OrderRead(Schema):
    id: str
    user_id: str
    status: str
    total: float
    items: list[LineRead]
    created_at: str
    updated_at: str
    expires_at: str
    payment_id: str | None
    cancel_reason: str | None

    @classmethod
    def of(cls, order: Order) -> OrderRead:
        return cls(
            id=order.id,
            user_id=order.user_id,
            status=order.status.value,
            total=float(order.total),
            items=[
                LineRead(product_id=x.product_id, name=x.name, unit_price=float(x.unit_price), quantity=x.quantity)
                for x in order.lines
            ],
            created_at=utc_text(order.created_at),
            updated_at=utc_text(order.updated_at),
            expires_at=utc_text(order.expires_at),
            payment_id=order.payment_id,
            cancel_reason=order.cancel_reason,
        )

    def wire(self) -> dict[str, object]:
        return self.model_dump(by_alias=True)
