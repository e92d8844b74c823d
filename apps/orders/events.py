"""orders' event edge: payment outcomes move orders on."""

from __future__ import annotations

from apps.orders import service
from apps.orders.deps import OrdersServices
from servicekit import EventEnvelope
from servicekit.consumer import Consumer

consumer: Consumer[OrdersServices] = Consumer("orders")


@consumer.on("payment.succeeded")
async def payment_succeeded(event: EventEnvelope, services: OrdersServices) -> bool:
    return await service.apply_payment(
        event, topic="payment.succeeded", uow=services.uow, peers=services.peers, clock=services.clock
    )


@consumer.on("payment.failed")
async def payment_failed(event: EventEnvelope, services: OrdersServices) -> bool:
    return await service.apply_payment(
        event, topic="payment.failed", uow=services.uow, peers=services.peers, clock=services.clock
    )
