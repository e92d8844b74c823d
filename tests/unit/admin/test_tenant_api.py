"""admin's tenant HTTP edge through the real app, and its start-up wiring (secret, outbox, workflow runtime)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient

import apps.admin.main as admin_main
import servicekit.app as servicekit_app
from apps.admin.main import create_app
from apps.admin.settings import AdminSettings
from apps.admin.tenants.domain import ProvisioningStep, advanced, new_tenant
from apps.admin.tenants.service.steps import Steps
from apps.admin.tenants.storage import INDEX_KEY
from apps.admin.tenants.storage.databases import tenant_database_url
from servicekit.clock import utc_now
from servicekit.provisioning import PROVISIONER_KEY_HEADER
from tests.unit.admin.fakes import (
    PROVISIONER_KEY,
    SCHOOL_TABLES,
    FakeTenantAdmins,
    FakeTenantDatabases,
    InlineWorkflows,
    RecordingSidecar,
    provisioner_ok,
)
from tests.unit.admin.helpers import THAI_NAME, Kit, client, command, document, onboarding_kit, staged
from tests.unit.fakes import FakeSidecar

READ_FIELDS = {
    "id",
    "name",
    "subdomain",
    "adminEmail",
    "status",
    "step",
    "reason",
    "tablesCreated",
    "databaseUrl",
    "requestedBy",
    "createdAt",
    "updatedAt",
    "attempts",
}


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": THAI_NAME,
        "subdomain": "satit",
        "adminEmail": "principal@school.example",
        "adminPassword": "correct horse battery",
        "requestedBy": "platform-admin-1",
        **overrides,
    }


def assert_refused(response: httpx.Response, status: int, code: str) -> Any:
    """admin is inside the mesh: a refusal travels as HTTP 200, its real status in the envelope."""
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["success"], answer["statusCode"], answer["error"]["code"]) == (False, status, code)
    return answer["error"]


def test_create_answers_201_with_the_active_tenant(kit: Kit) -> None:
    response = kit.client().post("/tenants", json=body())
    assert response.status_code == 201, response.text
    tenant = response.json()["data"]
    assert set(tenant) == READ_FIELDS
    assert (tenant["name"], tenant["subdomain"], tenant["status"], tenant["tablesCreated"]) == (
        THAI_NAME,
        "satit",
        "ACTIVE",
        sorted(SCHOOL_TABLES),
    )
    assert tenant["createdAt"].endswith("Z")
    assert tenant["databaseUrl"] == "sqlite+aiosqlite:///tenants/satit.db"
    assert "adminPasswordHash" not in response.text and "argon2" not in response.text


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"subdomain": "ab"}, "INVALID_SUBDOMAIN", "subdomain"),
        ({"subdomain": "Satit"}, "INVALID_SUBDOMAIN", "subdomain"),
        ({"subdomain": "-satit"}, "INVALID_SUBDOMAIN", "subdomain"),
        ({"subdomain": "www"}, "INVALID_SUBDOMAIN", "subdomain"),
        ({"subdomain": "junction"}, "INVALID_SUBDOMAIN", "subdomain"),
        ({"name": "   "}, "INVALID_NAME", "name"),
        ({"name": "x" * 201}, "INVALID_NAME", "name"),
        ({"name": "bell\x07"}, "INVALID_NAME", "name"),
        ({"adminEmail": "not-an-email"}, "INVALID_EMAIL", "adminEmail"),
        ({"adminPassword": "short"}, "WEAK_PASSWORD", "adminPassword"),
        ({"adminPassword": "x" * 129}, "WEAK_PASSWORD", "adminPassword"),
        ({"requestedBy": ""}, "VALIDATION_FAILED", "requestedBy"),
        ({"extra": 1}, "VALIDATION_FAILED", "extra"),
    ],
)
def test_bad_requests_are_refused_with_their_code_and_record_nothing(
    overrides: dict[str, Any],
    code: str,
    field: str,
    kit: Kit,
) -> None:
    error = assert_refused(kit.client().post("/tenants", json=body(**overrides)), 422, code)
    assert error["details"][0]["field"] == field
    assert kit.sidecar.state == {} and kit.sidecar.invocations == []


def test_missing_requested_by_is_refused(kit: Kit) -> None:
    payload = body()
    del payload["requestedBy"]
    assert_refused(kit.client().post("/tenants", json=payload), 422, "VALIDATION_FAILED")


def test_a_repeat_with_the_same_key_answers_the_recorded_tenant_and_provisions_once(kit: Kit) -> None:
    api = kit.client()
    key = {"Idempotency-Key": "create-satit-once"}
    first = api.post("/tenants", json=body(), headers=key)
    assert first.status_code == 201, first.text
    again = api.post("/tenants", json=body(), headers=key)
    assert again.status_code == 201, again.text
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert len(api.get("/tenants").json()["data"]["items"]) == 1
    assert_refused(api.post("/tenants", json=body(), headers={"Idempotency-Key": "another"}), 409, "SUBDOMAIN_TAKEN")


def test_duplicate_subdomain_is_409_even_when_the_first_failed(kit: Kit) -> None:
    del kit.sidecar.apps["provisioner"]
    api = kit.client()
    assert_refused(api.post("/tenants", json=body()), 424, "PROVISIONING_FAILED")
    kit.sidecar.apps["provisioner"] = provisioner_ok()
    error = assert_refused(api.post("/tenants", json=body(name="Other")), 409, "SUBDOMAIN_TAKEN")
    assert error["details"]["subdomain"] == "satit"


def test_provisioner_down_is_a_recorded_424_provisioning_failed_then_retry_is_200_active(kit: Kit) -> None:
    del kit.sidecar.apps["provisioner"]
    api = kit.client()

    response = api.post("/tenants", json=body())
    # The failure is on record (tenant FAILED): an outcome, never a 503 a sidecar would retry.
    error = assert_refused(response, 424, "PROVISIONING_FAILED")
    assert error["code"] == "PROVISIONING_FAILED"
    assert set(error["details"]) == {"tenantId", "reason"}
    tenant_id = error["details"]["tenantId"]
    shown = api.get(f"/tenants/{tenant_id}").json()["data"]
    assert (shown["status"], shown["reason"]) == ("FAILED", error["details"]["reason"])

    kit.sidecar.apps["provisioner"] = provisioner_ok()
    retried = api.post(f"/tenants/{tenant_id}/retry", json={"requestedBy": "platform-admin-2"})
    assert retried.status_code == 200, retried.text
    assert (retried.json()["data"]["status"], retried.json()["data"]["attempts"]) == ("ACTIVE", 2)

    again = api.post(f"/tenants/{tenant_id}/retry", json={"requestedBy": "platform-admin-2"})
    assert_refused(again, 409, "TENANT_NOT_RETRYABLE")


def test_retry_of_unknown_tenant_is_404_and_needs_requested_by(sidecar: FakeSidecar) -> None:
    api = client(sidecar)
    assert_refused(api.post("/tenants/0123abcd/retry", json={"requestedBy": "a"}), 404, "TENANT_NOT_FOUND")
    assert_refused(api.post("/tenants/0123abcd/retry", json={}), 422, "VALIDATION_FAILED")


def test_list_is_newest_first_and_paged_and_get_finds_one(kit: Kit) -> None:
    api = kit.client()
    ids = [api.post("/tenants", json=body(subdomain=f"school-{n}")).json()["data"]["id"] for n in range(3)]

    page = api.get("/tenants").json()["data"]
    assert (page["total"], [t["id"] for t in page["items"]]) == (3, ids[::-1])
    assert all(set(t) == READ_FIELDS for t in page["items"])
    paged = api.get("/tenants", params={"limit": 1, "offset": 1}).json()["data"]
    assert (paged["total"], [t["id"] for t in paged["items"]]) == (3, [ids[1]])
    assert api.get(f"/tenants/{ids[0]}").json()["data"]["subdomain"] == "school-0"
    assert_refused(api.get("/tenants/nope"), 404, "TENANT_NOT_FOUND")
    assert_refused(api.get("/tenants", params={"limit": 0}), 422, "VALIDATION_FAILED")
    assert api.get("/tenants").json()["data"] == page  # reading changes nothing
    assert client(FakeSidecar()).get("/tenants").json()["data"] == {"items": [], "total": 0}


def test_a_postgres_password_is_not_shown(kit: Kit) -> None:
    template = "postgresql+asyncpg://junction:s3cret@db:5432/tenant_{subdomain}"
    kit.onboarding = dataclasses.replace(kit.onboarding, database_url_template=template)
    tenant = kit.client().post("/tenants", json=body()).json()["data"]
    assert tenant["databaseUrl"] == "postgresql+asyncpg://junction:***@db:5432/tenant_satit"
    assert document(kit.sidecar, tenant["id"])["databaseUrl"].endswith(":s3cret@db:5432/tenant_satit")


class LifespanSidecar(RecordingSidecar):
    """Stands in for DaprSidecar in the real lifespan."""

    instance: ClassVar[LifespanSidecar]

    def __init__(self) -> None:
        super().__init__()
        self.secret_stores: list[str | None] = []
        self.closed = False

    @classmethod
    def from_settings(cls, settings: AdminSettings) -> LifespanSidecar:
        return cls.instance

    async def wait_until_ready(self, *, timeout_seconds: float) -> None:
        return None

    async def get_secret(self, key: str, *, store: str | None = None) -> str:
        self.secret_stores.append(store)
        return await super().get_secret(key, store=store)

    async def aclose(self) -> None:
        self.closed = True


class LifespanWorkflows(InlineWorkflows):
    """Stands in for DaprTenantWorkflows in the real lifespan: entered and left like the SDK's runtime."""

    instance: ClassVar[LifespanWorkflows]

    def __init__(self, on: Steps, *, grpc_port: int, api_token: str | None, call_timeout_seconds: float) -> None:
        super().__init__(on)
        self.grpc_port = grpc_port
        self.call_timeout_seconds = call_timeout_seconds
        self.running = False
        LifespanWorkflows.instance = self

    async def __aenter__(self) -> LifespanWorkflows:
        self.running = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.running = False


def test_start_up_reads_the_key_hosts_the_workflow_and_schedules_tenants_left_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sidecar = LifespanSidecar()
    k = onboarding_kit(sidecar)
    databases = FakeTenantDatabases()
    LifespanSidecar.instance = sidecar
    monkeypatch.setattr(servicekit_app, "DaprSidecar", LifespanSidecar)
    monkeypatch.setattr(admin_main, "SqlTenantDatabases", lambda: databases)
    monkeypatch.setattr(admin_main, "SqlTenantAdmins", FakeTenantAdmins)
    monkeypatch.setattr(admin_main, "DaprTenantWorkflows", LifespanWorkflows)
    monkeypatch.setattr(servicekit_app, "configure_logging", lambda *args: None)

    # A tenant a previous admin process recorded (database created) but died before scheduling its workflow.
    api = k.client()
    k.sidecar.apps["provisioner"] = provisioner_ok()
    active_id = api.post("/tenants", json=body(subdomain="fine")).json()["data"]["id"]
    stuck_id = record_stuck(k)

    app = create_app(AdminSettings(APP_ID="admin", DAPR_GRPC_PORT=4607))
    with TestClient(app) as started:
        workflows = LifespanWorkflows.instance
        assert workflows.running and (workflows.grpc_port, workflows.call_timeout_seconds) == (4607, 5.0)
        assert sidecar.secret_stores == ["provisioning-secrets"]
        stuck = started.get(f"/tenants/{stuck_id}").json()["data"]
        assert (stuck["status"], stuck["attempts"]) == ("ACTIVE", 1)
        assert started.get(f"/tenants/{active_id}").json()["data"]["status"] == "ACTIVE"
        assert databases.created == ["sqlite+aiosqlite:///.data/tenants/stuck.db"] and databases.removed == []
        invocation = sidecar.invocations[-1]
        assert invocation == ("provisioner", "POST", "/init-database", {PROVISIONER_KEY_HEADER: PROVISIONER_KEY})
        # The relay the lifespan started publishes what the workflow staged.
        deadline = time.monotonic() + 5
        while staged(sidecar) and time.monotonic() < deadline:
            started.get("/healthz")  # hands the event loop to the relay for a moment
        assert staged(sidecar) == []
    assert sidecar.closed and not workflows.running
    published = [(t, e.payload["tenantId"]) for t, e in sidecar.published]
    assert ("tenant.provisioned", stuck_id) in published and ("tenant.provisioned", active_id) in published


def record_stuck(k: Kit) -> str:
    """Store a PROVISIONING tenant the way a run that died after creating its database leaves it."""
    cmd = command(subdomain="stuck")
    url = tenant_database_url("sqlite+aiosqlite:///.data/tenants/{subdomain}.db", "stuck")
    tenant = new_tenant(
        cmd,
        name=cmd.name,
        subdomain="stuck",
        admin_email="p@school.example",
        password_hash="h",
        database_url=url,
        now=utc_now(),
    )

    async def store() -> None:
        record = await k.onboarding.tenants.add(tenant)
        await k.onboarding.tenants.replace(record, advanced(tenant, ProvisioningStep.DATABASE_CREATED, now=utc_now()))

    asyncio.run(store())
    assert k.sidecar.indexed(INDEX_KEY)[-1] == tenant.id
    return tenant.id
