"""Tenant onboarding's test kit: fake databases and first admins, a provisioner on the FakeSidecar,
and the provisioning workflow run inline (tests/unit/admin/_workflows.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from apps.admin.tenants import service
from apps.admin.tenants.domain import CreateTenant, RetryTenant, Tenant
from apps.admin.tenants.provisioner import ProvisionerClient
from apps.admin.tenants.service import Onboarding
from apps.admin.tenants.steps import Steps
from apps.admin.tenants.storage import DaprStateTenants, tenant_key
from servicekit.provisioning import PROVISIONER_KEY_SECRET
from servicekit.sidecar import StateOp
from servicekit.state_outbox import StateOutbox
from tests.unit.admin._workflows import InlineWorkflows
from tests.unit.fakes import FakeSidecar, Handler

PROVISIONER_KEY = "test-provisioner-key-0123456789"
TEMPLATE = "sqlite+aiosqlite:///tenants/{subdomain}.db"
SCHOOL_TABLES = ["teachers", "admin_users", "students", "classes", "attendance", "grades", "announcements"]
THAI_NAME = "โรงเรียนสาธิตแห่งมหาวิทยาลัย"


class RecordingSidecar(FakeSidecar):
    """Remembers every (status, step) written for each tenant, in order."""

    def __init__(self) -> None:
        super().__init__(secrets={PROVISIONER_KEY_SECRET: PROVISIONER_KEY})
        self.history: dict[str, list[tuple[str, str]]] = {}

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await super().transact(operations, store=store)
        for op in operations:
            if op.key.startswith("tenant:") and not op.delete:
                self.history.setdefault(op.value["id"], []).append((op.value["status"], op.value["step"]))


@dataclass
class FakeDatabases:
    existing: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    create_error: Exception | None = None

    async def create(self, database_url: str) -> None:
        if self.create_error is not None:
            raise self.create_error
        self.created.append(database_url)
        self.existing.add(database_url)

    async def remove(self, database_url: str) -> None:
        self.removed.append(database_url)
        self.existing.discard(database_url)


@dataclass
class FakeAdmins:
    rows: dict[tuple[str, str], str] = field(default_factory=dict)
    """(database url, email) -> password hash."""
    error: Exception | None = None

    async def ensure_admin(self, database_url: str, *, email: str, password_hash: str) -> bool:
        if self.error is not None:
            raise self.error
        return self.rows.setdefault((database_url, email), password_hash) == password_hash


def provisioner_ok(tables: list[str] | None = None) -> Handler:
    async def handle(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        assert (method, path) == ("POST", "/init-database")
        return {"success": True, "message": "migrated", "tablesCreated": list(tables or SCHOOL_TABLES)}

    return handle


@dataclass
class Kit:
    sidecar: FakeSidecar
    onboarding: Onboarding
    databases: FakeDatabases
    admins: FakeAdmins
    on: Steps
    workflows: InlineWorkflows

    def steps(self, tenant_id: str) -> list[tuple[str, str]]:
        """Every (status, step) written for the tenant, in order."""
        assert isinstance(self.sidecar, RecordingSidecar)
        return self.sidecar.history.get(tenant_id, [])


def kit(sidecar: FakeSidecar | None = None, *, provisioner: Handler | None = None) -> Kit:
    """Onboarding over fakes; the provisioner answers unless `provisioner` says otherwise."""
    fake = sidecar or RecordingSidecar()
    fake.apps["provisioner"] = provisioner or provisioner_ok()
    databases, admins = FakeDatabases(), FakeAdmins()
    tenants = DaprStateTenants(fake, StateOutbox(fake))
    steps = Steps(
        tenants=tenants,
        databases=databases,
        provisioner=ProvisionerClient(fake, app_id="provisioner", key=PROVISIONER_KEY),
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
