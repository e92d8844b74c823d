"""Tenant (school) onboarding: admin orchestrates, provisioner migrates, only admin may call it."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import suppress

import httpx
import pytest

from apps.admin.tenants.storage.databases import SqlTenantDatabases, tenant_database_url
from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_identity_flow import assert_error
from tools.stack import Stack
from tools.stack.stores import database_exists, query, tables_in

SCHOOL_TABLES = {"admin_users", "students", "teachers", "classes", "attendance", "grades", "announcements"}
THAI_NAME = "โรงเรียนสาธิตจุฬาลงกรณ์"


def new_tenant() -> dict[str, str]:
    return {
        "name": THAI_NAME,
        "subdomain": f"school-{uuid.uuid4().hex[:10]}",
        "adminEmail": "principal@example.com",
        "adminPassword": "school-admin-pass",
    }


def database_of(stack: Stack, subdomain: str) -> str:
    """The URL of a tenant's database in this run (a SQLite file or a PostgreSQL database, by profile)."""
    return tenant_database_url(stack.setting("admin", "TENANT_DATABASE_URL_TEMPLATE"), subdomain)


def test_create_tenant_builds_its_school_database(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str]
) -> None:
    body = new_tenant()
    created = gateway.post("/tenants", json=body, headers=admin_auth)
    assert created.status_code == 201, created.text
    tenant = created.json()["data"]
    assert tenant["status"] == "ACTIVE" and tenant["name"] == THAI_NAME and tenant["subdomain"] == body["subdomain"]
    assert set(tenant["tablesCreated"]) == SCHOOL_TABLES

    url = database_of(stack, body["subdomain"])
    assert tables_in(url) >= SCHOOL_TABLES
    ((email, password_hash),) = query(url, "SELECT email, password_hash FROM admin_users")
    assert email == "principal@example.com" and password_hash.startswith("$argon2")

    fetched = gateway.get(f"/tenants/{tenant['id']}", headers=admin_auth).json()["data"]
    assert fetched["status"] == "ACTIVE" and "adminPassword" not in fetched and "adminPasswordHash" not in fetched
    listed = gateway.get("/tenants", headers=admin_auth).json()["data"]["items"]
    assert tenant["id"] in {t["id"] for t in listed}


def test_tenant_input_is_checked(gateway: httpx.Client, admin_auth: dict[str, str], account: Account) -> None:
    body = new_tenant()
    assert gateway.post("/tenants", json=body, headers=admin_auth).status_code == 201
    assert_error(gateway.post("/tenants", json={**body, "name": "Another"}, headers=admin_auth), 409, "SUBDOMAIN_TAKEN")
    for bad in ("www", "ab", "Upper-Case", "-dash", "under_score", "x" * 64, "admin"):
        assert_error(gateway.post("/tenants", json={**new_tenant(), "subdomain": bad}, headers=admin_auth), 422)
    assert_error(gateway.post("/tenants", json=new_tenant(), headers=account.auth), 403, "ADMIN_ONLY")
    assert_error(gateway.post("/tenants", json=new_tenant()), 401)


def test_provisioner_down_fails_cleanly_then_retry_succeeds(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str]
) -> None:
    body = new_tenant()
    stack.stop_app("provisioner")
    try:
        refused = gateway.post("/tenants", json=body, headers=admin_auth)
        error = assert_error(refused, 424, "PROVISIONING_FAILED")["error"]
        tenant_id = error["details"]["tenantId"]  # type: ignore[index]
        failed = gateway.get(f"/tenants/{tenant_id}", headers=admin_auth).json()["data"]
        assert failed["status"] == "FAILED" and failed["reason"]
        assert not database_exists(database_of(stack, body["subdomain"]))
    finally:
        stack.start_app("provisioner")

    def retried() -> httpx.Response:
        return gateway.post(f"/tenants/{tenant_id}/retry", headers=admin_auth)

    # The breaker towards provisioner may still be open for a few seconds after the failures above.
    done = wait_until(retried, lambda r: r.status_code == 200, timeout=60, what="a successful retry")
    assert done.json()["data"]["status"] == "ACTIVE"
    assert tables_in(database_of(stack, body["subdomain"])) >= SCHOOL_TABLES
    assert_error(gateway.post(f"/tenants/{tenant_id}/retry", headers=admin_auth), 409, "TENANT_NOT_RETRYABLE")


def test_only_admin_may_call_provisioner(stack: Stack) -> None:
    target = database_of(stack, f"intruder-{uuid.uuid4().hex[:8]}")
    asyncio.run(SqlTenantDatabases().create(target))  # an empty database, as admin would make it
    request = {"databaseUrl": target}
    key = json.loads((stack.run_dir / "provisioning-secrets.json").read_text())["provisioner-key"]
    # The first wall: provisioner's sidecar refuses every caller but admin (config/provisioner.yaml).
    for via, headers in (
        ("probe", {}),
        ("catalog", {"x-provisioner-key": key}),
        ("gateway", {"x-provisioner-key": key}),
    ):
        answer = stack.invoke(via, "provisioner", "/init-database", json=request, headers=headers)
        assert answer.status_code == 403 and "access control policy has denied" in answer.text, (via, answer.text)
    # The second wall: provisioner itself wants admin's app id and key, even from its own sidecar.
    provisioner = stack.apps["provisioner"]
    for headers in ({}, {"dapr-caller-app-id": "admin"}, {"dapr-caller-app-id": "catalog", "x-provisioner-key": key}):
        answer = httpx.post(
            f"{provisioner.app_url}/init-database",
            json=request,
            headers={**headers, "dapr-api-token": provisioner.app_token},
            timeout=10,
        )
        body = answer.json()
        assert body["success"] is False and body["statusCode"] == 403, (headers, body)
        assert body["error"]["code"] == "CALLER_NOT_ALLOWED"
    assert tables_in(target) == set()


def test_tenant_events_reach_notifications_and_analytics(gateway: httpx.Client, admin_auth: dict[str, str]) -> None:
    body = new_tenant()
    assert gateway.post("/tenants", json=body, headers=admin_auth).status_code == 201
    wait_until(
        lambda: [
            n["message"]
            for n in gateway.get("/notifications", headers=admin_auth).json().get("data", {}).get("items", [])
        ],
        lambda messages: any(body["subdomain"] in m and "ready" in m for m in messages),
        timeout=20,
        what="the admin's notification",
    )
    wait_until(
        lambda: gateway.get("/reports/summary", headers=admin_auth).json().get("data", {}).get("eventCounts", {}),
        lambda counts: counts.get("tenant.provisioned", 0) >= 1,
        timeout=20,
        what="analytics to count tenant.provisioned",
    )


@pytest.mark.parametrize("killed", ["app", "app and sidecar"])
def test_admin_sigkill_mid_provisioning_resumes_the_workflow_on_restart(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str], killed: str
) -> None:
    """The provisioning workflow's history outlives admin: restarted, it carries on and the tenant turns ACTIVE."""
    body = new_tenant()
    stack.pause_app("provisioner")  # the migrations activity now waits on it, mid-workflow
    try:
        with httpx.Client(base_url=gateway.base_url, timeout=5) as impatient, suppress(httpx.TimeoutException):
            impatient.post("/tenants", json=body, headers=admin_auth)

        def provisioning() -> list[dict[str, object]]:
            items = gateway.get("/tenants", params={"limit": 100}, headers=admin_auth).json()["data"]["items"]
            return [t for t in items if t["subdomain"] == body["subdomain"]]

        (stuck,) = wait_until(
            provisioning,
            lambda found: bool(found) and found[0]["step"] == "DATABASE_CREATED",
            timeout=20,
            what="the workflow to wait on the migrations",
        )
        assert stuck["status"] == "PROVISIONING"
        if killed == "app":
            stack.kill_app("admin")
        else:
            stack.kill_both("admin")
    finally:
        stack.pause_app("provisioner", paused=False)
        stack.restart("admin")

    done = wait_until(
        lambda: gateway.get(f"/tenants/{stuck['id']}", headers=admin_auth).json()["data"],
        lambda tenant: tenant["status"] != "PROVISIONING",
        timeout=120,
        what="the resumed workflow to finish the tenant",
    )
    assert (done["status"], done["step"], done["attempts"]) == ("ACTIVE", "DONE", 1), done
    assert set(done["tablesCreated"]) == SCHOOL_TABLES
    assert tables_in(database_of(stack, body["subdomain"])) >= SCHOOL_TABLES
    assert f"tenant-{stuck['id']}-1" in stack.app_log("admin")
