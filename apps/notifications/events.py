"""notifications' event edge: parse the payload, word the message, call the use case (False: a duplicate)."""

from __future__ import annotations

from apps.notifications import service
from apps.notifications.deps import NotificationsServices
from apps.notifications.domain import Notify, messages
from apps.notifications.payloads import (
    OrderCancelled,
    OrderFact,
    PaymentFailed,
    PaymentSucceeded,
    TenantProvisioned,
    TenantProvisioningFailed,
    UserRegistered,
)
from servicekit import EventEnvelope
from servicekit.clock import as_utc
from servicekit.consumer import Consumer
from servicekit.payloads import parse_payload

consumer: Consumer[NotificationsServices] = Consumer("notifications")


async def _notify(
    event: EventEnvelope, services: NotificationsServices, topic: str, user_id: str, message: str, order_id: str | None
) -> bool:
    # A producer without a zone meant UTC; mixing naive and aware times cannot sort.
    command = Notify(user_id, topic, message, event.event_id, as_utc(event.occurred_at), order_id)
    return await service.notify(command, inboxes=services.inboxes)


@consumer.on("user.registered")
async def user_registered(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(UserRegistered, event)
    return await _notify(event, services, "user.registered", p.user_id, messages.welcome(p.name), None)


@consumer.on("order.created")
async def order_created(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(OrderFact, event)
    message = messages.order_received(p.order_id, p.total)
    return await _notify(event, services, "order.created", p.user_id, message, p.order_id)


@consumer.on("order.confirmed")
async def order_confirmed(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(OrderFact, event)
    message = messages.order_confirmed(p.order_id, p.total)
    return await _notify(event, services, "order.confirmed", p.user_id, message, p.order_id)


@consumer.on("order.cancelled")
async def order_cancelled(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(OrderCancelled, event)
    message = messages.order_cancelled(p.order_id, p.reason)
    return await _notify(event, services, "order.cancelled", p.user_id, message, p.order_id)


@consumer.on("order.expired")
async def order_expired(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(OrderFact, event)
    return await _notify(event, services, "order.expired", p.user_id, messages.order_expired(p.order_id), p.order_id)


@consumer.on("payment.succeeded")
async def payment_succeeded(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(PaymentSucceeded, event)
    message = messages.payment_received(p.order_id, p.amount)
    return await _notify(event, services, "payment.succeeded", p.user_id, message, p.order_id)


@consumer.on("payment.failed")
async def payment_failed(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(PaymentFailed, event)
    message = messages.payment_declined(p.order_id, p.reason)
    return await _notify(event, services, "payment.failed", p.user_id, message, p.order_id)


@consumer.on("tenant.provisioned")
async def tenant_provisioned(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(TenantProvisioned, event)
    message = messages.tenant_ready(p.name, p.subdomain, len(p.tables_created))
    return await _notify(event, services, "tenant.provisioned", p.user_id, message, None)


@consumer.on("tenant.provisioning_failed")
async def tenant_provisioning_failed(event: EventEnvelope, services: NotificationsServices) -> bool:
    p = parse_payload(TenantProvisioningFailed, event)
    message = messages.tenant_failed(p.name, p.subdomain, p.reason)
    return await _notify(event, services, "tenant.provisioning_failed", p.user_id, message, None)
