"""Shared helpers for notifications' unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.notifications.deps import NotificationsServices
from apps.notifications.events import consumer
from apps.notifications.storage import DaprStateInboxRepository
from servicekit import Delivery, EventEnvelope
from tests.unit.fakes import FakeSidecar

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def services_on(sidecar: FakeSidecar) -> NotificationsServices:
    return NotificationsServices(inboxes=DaprStateInboxRepository(sidecar))


def new_id() -> str:
    return uuid.uuid4().hex


def envelope(payload: dict[str, Any], *, minute: int = 0) -> EventEnvelope:
    """An event that happened `minute` minutes after START."""
    return EventEnvelope(
        event_id=new_id(), schema_version=1, occurred_at=START + timedelta(minutes=minute), payload=payload
    )


def cloud_event(topic: str, event: EventEnvelope) -> dict[str, Any]:
    return {"id": event.event_id, "type": topic, "data": event.model_dump(mode="json", by_alias=True)}


async def deliver(sidecar: FakeSidecar, topic: str, event: EventEnvelope) -> Delivery:
    return await consumer.deliver(topic, cloud_event(topic, event), services_on(sidecar))


def inbox(sidecar: FakeSidecar, user_id: str) -> dict[str, Any]:
    item = sidecar.state.get(("statestore", f"notifications:{user_id}"))
    return {"items": [], "seen": []} if item is None else dict(item.value)


def messages(sidecar: FakeSidecar, user_id: str) -> list[str]:
    return [i["message"] for i in inbox(sidecar, user_id)["items"]]
