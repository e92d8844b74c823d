"""admin's unit-test kit: CloudEvents as Dapr forwards them, the app on a FakeSidecar, and tenant onboarding
over fakes (fakes.py) with its commands and readers of the stored tenant and the staged events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from apps.admin.deadletters.storage import DaprStateDeadLetterRepository
from apps.admin.deps import AdminServices
from apps.admin.main import create_app
from apps.admin.settings import AdminSettings
from apps.admin.tenants import service
from apps.admin.tenants.domain import CreateTenant, RetryTenant, Tenant
from apps.admin.tenants.peers import DaprSchemaProvisioner
from apps.admin.tenants.service import Onboarding
from apps.admin.tenants.service.steps import Steps
from apps.admin.tenants.storage import DaprStateTenantRepository, tenant_key
from servicekit.state_outbox import StateOutbox
from tests.unit.admin.fakes import (
    PROVISIONER_KEY,
    FakeTenantAdmins,
    FakeTenantDatabases,
    InlineWorkflows,
    RecordingSidecar,
    provisioner_ok,
)
from tests.unit.fakes import FakeSidecar, Handler

TEMPLATE = "sqlite+aiosqlite:///tenants/{subdomain}.db"
THAI_NAME = "โรงเรียนสาธิตแห่งมหาวิทยาลัย"

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
        dead_letters=DaprStateDeadLetterRepository(sidecar),
        onboarding=onboarding or onboarding_kit(sidecar).onboarding,
    )


def client(sidecar: FakeSidecar, onboarding: Onboarding | None = None) -> TestClient:
    """admin's real app with its services on the fake sidecar; its lifespan waits for no sidecar and wires nothing."""
    return TestClient(create_app(AdminSettings(APP_ID="admin"), services=services(sidecar, onboarding)))


@dataclass
class Kit:
    sidecar: FakeSidecar
    onboarding: Onboarding
    databases: FakeTenantDatabases
    admins: FakeTenantAdmins
    on: Steps
    workflows: InlineWorkflows

    def client(self) -> TestClient:
        """admin's real app over this onboarding."""
        return client(self.sidecar, self.onboarding)

    def steps(self, tenant_id: str) -> list[tuple[str, str]]:
        """Every (status, step) written for the tenant, in order."""
        assert isinstance(self.sidecar, RecordingSidecar)
        return self.sidecar.history.get(tenant_id, [])


def onboarding_kit(sidecar: FakeSidecar | None = None, *, provisioner: Handler | None = None) -> Kit:
    """Onboarding over fakes; the provisioner answers unless `provisioner` says otherwise."""
    fake = sidecar or RecordingSidecar()
    fake.apps["provisioner"] = provisioner or provisioner_ok()
    databases, admins = FakeTenantDatabases(), FakeTenantAdmins()
    tenants = DaprStateTenantRepository(fake, StateOutbox(fake))
    steps = Steps(
        tenants=tenants,
        databases=databases,
        provisioner=DaprSchemaProvisioner(fake, app_id="provisioner", key=PROVISIONER_KEY),
        admins=admins,
    )
    workflows = InlineWorkflows(steps)
    onboarding = Onboarding(tenants=tenants, workflows=workflows, database_url_template=TEMPLATE, wait_seconds=1)
    return Kit(fake, onboarding, databases, admins, steps, workflows)


def command(**overrides: Any) -> CreateTenant:
    fields: dict[str, Any] = {
        "name": THAI_NAME,
        "subdomain": f"school-{uuid.uuid4().hex[:8]}",
        "admin_email": "Principal@School.example",
        "admin_password": "correct horse battery",
        "requested_by": "platform-admin-1",
    }
    return CreateTenant(**{**fields, **overrides})


async def create(k: Kit, **overrides: Any) -> Tenant:
    return await service.create_tenant(command(**overrides), onboarding=k.onboarding)


async def retry(k: Kit, tenant_id: str, requested_by: str = "platform-admin-2") -> Tenant:
    return await service.retry_tenant(RetryTenant(tenant_id, requested_by), onboarding=k.onboarding)


def document(sidecar: FakeSidecar, tenant_id: str) -> dict[str, Any]:
    item = sidecar.state[("statestore", tenant_key(tenant_id))]
    return dict(item.value)


def staged(sidecar: FakeSidecar) -> list[tuple[str, dict[str, Any]]]:
    """The events waiting in admin's state outbox: (topic, payload)."""
    return sidecar.staged_events()
