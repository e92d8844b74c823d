"""analytics' event edge: every topic is counted; order and user events also move the figures."""

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

consumer: Consumer[AnalyticsServices] = Consumer()


@consumer.on("user.registered")
async def user_registered(event: EventEnvelope, services: AnalyticsServices) -> None:
    parse_payload(UserRegistered, event)
    await service.observe(domain.user_registered(event.event_id), summaries=services.summaries)


@consumer.on("order.created")
async def order_created(event: EventEnvelope, services: AnalyticsServices) -> None:
    parse_payload(OrderFact, event)
    await service.observe(domain.order_created(event.event_id), summaries=services.summaries)


@consumer.on("order.confirmed")
async def order_confirmed(event: EventEnvelope, services: AnalyticsServices) -> None:
    p = parse_payload(OrderFact, event)
    await service.observe(domain.order_confirmed(event.event_id, p.total), summaries=services.summaries)


@consumer.on("order.cancelled")
async def order_cancelled(event: EventEnvelope, services: AnalyticsServices) -> None:
    p = parse_payload(OrderCancelled, event)
    await service.observe(domain.order_cancelled(event.event_id, p.previous, p.total), summaries=services.summaries)


@consumer.on("order.expired")
async def order_expired(event: EventEnvelope, services: AnalyticsServices) -> None:
    parse_payload(OrderFact, event)
    await service.observe(domain.order_expired(event.event_id), summaries=services.summaries)


def _count_only(topic: str, model: type[Payload]) -> Handler[AnalyticsServices]:
    async def handle(event: EventEnvelope, services: AnalyticsServices) -> None:
        parse_payload(model, event)
        await service.observe(domain.counted(topic, event.event_id), summaries=services.summaries)

    return handle


COUNTED_ONLY: dict[str, type[Payload]] = {
    "product.stock_changed": StockChanged,
    "payment.succeeded": PaymentFact,
    "payment.failed": PaymentFact,
    "tenant.provisioned": TenantFact,
    "tenant.provisioning_failed": TenantFact,
}
for _topic, _model in COUNTED_ONLY.items():
    consumer.on(_topic)(_count_only(_topic, _model))
