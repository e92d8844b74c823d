"""Shared pieces of admin's unit tests: CloudEvents as Dapr forwards them, and the app on a FakeSidecar."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from apps.admin.deadletters.storage import DaprStateDeadLetters
from apps.admin.deps import AdminServices
from apps.admin.main import create_app
from apps.admin.settings import AdminSettings
from apps.admin.tenants.service import Onboarding
from tests.unit.admin._tenants import kit
from tests.unit.fakes import FakeSidecar

OCCURRED_AT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
"""Recent: admin refuses to replay an event older than the replay horizon."""


def envelope(**payload: Any) -> dict[str, Any]:
    return {
        "eventId": uuid.uuid4().hex,
        "schemaVersion": 1,
        "occurredAt": OCCURRED_AT,
        "requestId": f"req-{uuid.uuid4().hex}",
        "payload": payload,
    }


def cloud_event(topic: str = "order.created", data: Any = None, **fields: Any) -> dict[str, Any]:
    """A CloudEvent the way Dapr forwards it to the dead-letter topic: unchanged, id = data.eventId."""
    data = envelope(orderId=uuid.uuid4().hex) if data is None else data
    event_id = data["eventId"] if isinstance(data, dict) and "eventId" in data else uuid.uuid4().hex
    return {
        "specversion": "1.0",
        "id": event_id,
        "type": topic,
        "source": "orders",
        "topic": topic,
        "pubsubname": "pubsub",
        "datacontenttype": "application/json",
        "data": data,
        **fields,
    }


def services(sidecar: FakeSidecar, onboarding: Onboarding | None = None) -> AdminServices:
    return AdminServices(
        sidecar=sidecar,
        dead_letters=DaprStateDeadLetters(sidecar),
        onboarding=onboarding or kit(sidecar).onboarding,
    )


def client(sidecar: FakeSidecar, onboarding: Onboarding | None = None) -> TestClient:
    """admin's real app with its services on the fake sidecar; the lifespan (a real sidecar) is not entered."""
    app = create_app(AdminSettings(APP_ID="admin"))
    app.state.services = services(sidecar, onboarding)
    return TestClient(app)
