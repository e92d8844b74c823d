"""The event payloads analytics reads (docs/events.md): only what it counts must be there and well typed."""

from __future__ import annotations

from typing import Literal

from apps.analytics.domain import OrderStatus
from servicekit.payloads import Id, Money, Payload


class UserRegistered(Payload):
    user_id: Id


class StockChanged(Payload):
    product_id: Id


class OrderFact(Payload):
    """`order.created`, `order.confirmed` and `order.expired`."""

    order_id: Id
    total: Money


class OrderCancelled(OrderFact):
    previous_status: Literal["PENDING_PAYMENT", "CONFIRMED"]

    @property
    def previous(self) -> OrderStatus:
        return OrderStatus(self.previous_status)


class PaymentFact(Payload):
    payment_id: Id
    order_id: Id


class TenantFact(Payload):
    tenant_id: Id
