"""What analytics' event and shard tests share: payloads of one order, deliveries, and the stored shards."""

from __future__ import annotations

from typing import Any

from apps.analytics import service
from apps.analytics.deps import AnalyticsServices
from apps.analytics.events import consumer
from apps.analytics.schemas import SummaryRead
from apps.analytics.storage import SHARDS, DaprStateSummaryRepository
from servicekit import Delivery, EventEnvelope, new_event
from tests.unit.fakes import FakeSidecar

ORDER = {"orderId": "o-1", "userId": "u-1", "total": 12.5}
PAYLOADS: dict[str, dict[str, Any]] = {
    "user.registered": {"userId": "u-1", "email": "a@example.com", "name": "A", "role": "customer"},
    "product.stock_changed": {
        "productId": "p-1",
        "sku": "PEN",
        "stock": 3,
        "reserved": 1,
        "change": -1,
        "reason": "reserved",
        "orderId": "o-1",
    },
    "order.created": {**ORDER, "items": [], "paymentToken": "tok_ok"},
    "order.confirmed": {**ORDER, "paymentId": "pay-1"},
    "order.cancelled": {**ORDER, "previousStatus": "CONFIRMED", "reason": "CUSTOMER_CANCELLED"},
    "order.expired": ORDER,
    "payment.succeeded": {"paymentId": "pay-1", "orderId": "o-1", "userId": "u-1", "amount": 12.5},
    "payment.failed": {"paymentId": "pay-1", "orderId": "o-1", "userId": "u-1", "amount": 12.5, "reason": "X"},
    "tenant.provisioned": {"tenantId": "t-1", "subdomain": "s", "name": "S", "tablesCreated": 7},
    "tenant.provisioning_failed": {"tenantId": "t-1", "subdomain": "s", "name": "S", "reason": "boom"},
}
ORDER_TOPICS = [topic for topic in PAYLOADS if topic.startswith(("order.", "payment."))]


def services_on(sidecar: FakeSidecar, shards: int = SHARDS) -> AnalyticsServices:
    return AnalyticsServices(summaries=DaprStateSummaryRepository(sidecar, shards=shards))


def of_order(topic: str, order_id: str) -> dict[str, Any]:
    """The topic's sample payload, about another order."""
    return {**PAYLOADS[topic], "orderId": order_id}


def cloud_event(topic: str, event: EventEnvelope) -> dict[str, Any]:
    return {"id": event.event_id, "type": topic, "data": event.model_dump(mode="json", by_alias=True)}


async def deliver(
    sidecar: FakeSidecar, topic: str, payload: dict[str, Any], event: EventEnvelope | None = None
) -> Delivery:
    envelope = event or new_event(payload)
    return await consumer.deliver(topic, cloud_event(topic, envelope), services_on(sidecar))


def shards(sidecar: FakeSidecar) -> dict[str, dict[str, Any]]:
    """Every stored summary shard, by state key."""
    return {key: dict(item.value) for (_, key), item in sidecar.state.items() if key.startswith("summary:")}


async def summary(sidecar: FakeSidecar) -> dict[str, Any]:
    """Every shard added up, as the report shows it."""
    total = await service.current_summary(summaries=services_on(sidecar).summaries)
    return SummaryRead.of(total).model_dump(by_alias=True)
