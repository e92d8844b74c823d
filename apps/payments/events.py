"""payments' event edge: parse the payload, call a use case."""

from __future__ import annotations

from apps.payments import service
from apps.payments.deps import PaymentsServices
from apps.payments.domain import EXPIRED_REASON, ChargeOrder, CloseOrder
from apps.payments.payloads import OrderClosed, OrderCreated
from servicekit import EventEnvelope
from servicekit.consumer import Consumer
from servicekit.payloads import parse_payload

# Its subscriptions (dead letters to deadletters.payments) are declared in components/common/subscriptions.yaml.
consumer: Consumer[PaymentsServices] = Consumer("payments")


@consumer.on("order.created")
async def order_created(event: EventEnvelope, services: PaymentsServices) -> None:
    p = parse_payload(OrderCreated, event)
    command = ChargeOrder(p.order_id, p.user_id, p.total, p.payment_token)
    await service.charge_order(command, payments=services.payments, provider=services.provider)


@consumer.on("order.cancelled")
async def order_cancelled(event: EventEnvelope, services: PaymentsServices) -> None:
    p = parse_payload(OrderClosed, event)
    command = CloseOrder(p.order_id, p.user_id, p.total, p.reason or "CANCELLED")
    await service.close_order(command, payments=services.payments, provider=services.provider)


@consumer.on("order.expired")
async def order_expired(event: EventEnvelope, services: PaymentsServices) -> None:
    p = parse_payload(OrderClosed, event)
    command = CloseOrder(p.order_id, p.user_id, p.total, EXPIRED_REASON)
    await service.close_order(command, payments=services.payments, provider=services.provider)
