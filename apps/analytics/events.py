"""analytics' event edge: every topic is counted once (a handler's False: a duplicate); order and user events
also move the figures.

Order and payment events name their order, so all of one order's events are counted in one shard.
"""

from __future__ import annotations

from apps.analytics import domain, service
from apps.analytics.deps import AnalyticsServices
from apps.analytics.payloads import (
    OrderCancelled,
    OrderFact,
    PaymentFact,
    StockChanged,
    TenantFact,
    UserRegistered,
)
from servicekit import EventEnvelope
from servicekit.consumer import Consumer, Handler
from servicekit.payloads import Payload, parse_payload

consumer: Consumer[AnalyticsServices] = Consumer("analytics")


@consumer.on("user.registered")
async def user_registered(event: EventEnvelope, services: AnalyticsServices) -> bool:
    parse_payload(UserRegistered, event)
    return await service.observe(domain.user_registered(event.event_id), summaries=services.summaries)


@consumer.on("order.created")
async def order_created(event: EventEnvelope, services: AnalyticsServices) -> bool:
    p = parse_payload(OrderFact, event)
    return await service.observe(
        domain.order_created(event.event_id), order_id=p.order_id, summaries=services.summaries
    )


@consumer.on("order.confirmed")
async def order_confirmed(event: EventEnvelope, services: AnalyticsServices) -> bool:
    p = parse_payload(OrderFact, event)
    command = domain.order_confirmed(event.event_id, p.total)
    return await service.observe(command, order_id=p.order_id, summaries=services.summaries)


@consumer.on("order.cancelled")
async def order_cancelled(event: EventEnvelope, services: AnalyticsServices) -> bool:
    p = parse_payload(OrderCancelled, event)
    command = domain.order_cancelled(event.event_id, p.previous, p.total)
    return await service.observe(command, order_id=p.order_id, summaries=services.summaries)


@consumer.on("order.expired")
async def order_expired(event: EventEnvelope, services: AnalyticsServices) -> bool:
    p = parse_payload(OrderFact, event)
    return await service.observe(
        domain.order_expired(event.event_id), order_id=p.order_id, summaries=services.summaries
    )


def _count_only(topic: str, model: type[Payload]) -> Handler[AnalyticsServices]:
    async def handle(event: EventEnvelope, services: AnalyticsServices) -> bool:
        parse_payload(model, event)
        return await service.observe(domain.counted(topic, event.event_id), summaries=services.summaries)

    return handle


def _count_payment(topic: str) -> Handler[AnalyticsServices]:
    """Payment events are only counted, but in their order's shard like the order's own events."""

    async def handle(event: EventEnvelope, services: AnalyticsServices) -> bool:
        p = parse_payload(PaymentFact, event)
        return await service.observe(
            domain.counted(topic, event.event_id), order_id=p.order_id, summaries=services.summaries
        )

    return handle


COUNTED_ONLY: dict[str, type[Payload]] = {
    "product.stock_changed": StockChanged,
    "tenant.provisioned": TenantFact,
    "tenant.provisioning_failed": TenantFact,
}
for _topic, _model in COUNTED_ONLY.items():
    consumer.on(_topic)(_count_only(_topic, _model))
for _topic in ("payment.succeeded", "payment.failed"):
    consumer.on(_topic)(_count_payment(_topic))
