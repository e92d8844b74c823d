"""Every event a user cares about becomes one readable notification."""

from __future__ import annotations

from typing import Any

import pytest

from apps.notifications.domain.messages import cancel_reason, words
from servicekit import Delivery
from tests.unit.fakes import FakeSidecar
from tests.unit.notifications.helpers import deliver, envelope, inbox, new_id

pytestmark = pytest.mark.anyio

ORDER = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        (
            "user.registered",
            {"email": "ada@example.com", "name": "Ada Lovelace", "role": "customer"},
            "Welcome to Junction, Ada Lovelace!",
        ),
        (
            "order.created",
            {"orderId": ORDER, "total": 42.5, "items": [], "paymentToken": "tok_ok"},
            "Order a1b2c3d4 received, total 42.50; waiting for payment.",
        ),
        (
            "order.confirmed",
            {"orderId": ORDER, "total": 7, "paymentId": "p-1"},
            "Order a1b2c3d4 confirmed, total 7.00.",
        ),
        (
            "order.cancelled",
            {"orderId": ORDER, "total": 1.5, "previousStatus": "PENDING_PAYMENT", "reason": "INSUFFICIENT_FUNDS"},
            "Order a1b2c3d4 cancelled: payment declined (insufficient funds).",
        ),
        (
            "order.cancelled",
            {"orderId": ORDER, "total": 1.5, "previousStatus": "CONFIRMED", "reason": "CUSTOMER_CANCELLED"},
            "Order a1b2c3d4 cancelled: cancelled at your request.",
        ),
        (
            "order.expired",
            {"orderId": ORDER, "total": 3.25},
            "Order a1b2c3d4 expired unpaid; the items were released.",
        ),
        (
            "payment.succeeded",
            {"paymentId": "p-1", "orderId": ORDER, "amount": 19.9},
            "Payment of 19.90 for order a1b2c3d4 received.",
        ),
        (
            "payment.failed",
            {"paymentId": "p-1", "orderId": ORDER, "amount": 19.9, "reason": "INSUFFICIENT_FUNDS"},
            "Payment for order a1b2c3d4 was declined: insufficient funds.",
        ),
    ],
)
async def test_event_becomes_its_message(
    topic: str, payload: dict[str, Any], message: str, sidecar: FakeSidecar
) -> None:
    user_id = new_id()
    event = envelope({**payload, "userId": user_id})
    assert await deliver(sidecar, topic, event) is Delivery.SUCCESS
    [item] = inbox(sidecar, user_id)["items"]
    assert (item["type"], item["message"], item["eventId"]) == (topic, message, event.event_id)
    assert item["createdAt"] == "2026-03-01T12:00:00Z"
    assert item.get("orderId") == (None if topic == "user.registered" else ORDER)


TABLES = ["admin_users", "announcements", "attendance", "classes", "grades", "students", "teachers"]


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        (
            "tenant.provisioned",
            {"tenantId": "t-1", "subdomain": "satit", "name": "โรงเรียนสาธิต", "tablesCreated": TABLES},
            "School โรงเรียนสาธิต (satit) is ready: 7 tables created.",
        ),
        (
            "tenant.provisioned",
            {"tenantId": "t-1", "subdomain": "empty", "name": "Empty", "tablesCreated": []},
            "School Empty (empty) is ready: 0 tables created.",
        ),
        (
            "tenant.provisioning_failed",
            {
                "tenantId": "t-1",
                "subdomain": "satit",
                "name": "โรงเรียนสาธิต",
                "reason": "interrupted: admin restarted during provisioning",
            },
            "School โรงเรียนสาธิต (satit) could not be set up: interrupted: admin restarted during provisioning.",
        ),
    ],
)
async def test_tenant_event_tells_the_admin_who_asked(
    topic: str, payload: dict[str, Any], message: str, sidecar: FakeSidecar
) -> None:
    admin_id = new_id()
    event = envelope({**payload, "userId": admin_id})
    assert await deliver(sidecar, topic, event) is Delivery.SUCCESS
    [item] = inbox(sidecar, admin_id)["items"]
    assert (item["type"], item["message"], item["eventId"]) == (topic, message, event.event_id)
    assert "orderId" not in item
    assert await deliver(sidecar, topic, event) is Delivery.SUCCESS  # redelivered: still one notification
    assert len(inbox(sidecar, admin_id)["items"]) == 1


def test_reasons_read_as_words() -> None:
    assert words("INVALID_PAYMENT_TOKEN") == "invalid payment token"
    assert cancel_reason("ADMIN_CANCELLED") == "cancelled by an administrator"
    assert cancel_reason("INVALID_PAYMENT_TOKEN") == "payment declined (invalid payment token)"
