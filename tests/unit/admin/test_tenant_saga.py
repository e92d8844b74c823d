"""The provisioning saga over the FakeSidecar: steps saved, failures compensated, retries and recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from argon2 import PasswordHasher

from apps.admin.tenants import service
from apps.admin.tenants.domain import (
    INTERRUPTED,
    ProvisioningFailed,
    ProvisioningSuperseded,
    SubdomainTaken,
    TenantNotFound,
    TenantNotRetryable,
    TenantStatus,
)
from apps.admin.tenants.storage import INDEX_KEY, subdomain_key
from servicekit import DependencyUnavailable, Forbidden
from servicekit.provisioning import PROVISIONER_KEY_HEADER
from tests.unit.admin._tenants import (
    PROVISIONER_KEY,
    SCHOOL_TABLES,
    THAI_NAME,
    Kit,
    age,
    command,
    create,
    document,
    kit,
    provisioner_ok,
    retry,
    staged,
)

STEPS = ["RECORDED", "DATABASE_CREATED", "MIGRATED", "ADMIN_CREATED", "DONE"]


def test_happy_saga_saves_every_step_and_stages_tenant_provisioned() -> None:
    k = kit()
    tenant = create(k, subdomain="satit-school")
    url = "sqlite+aiosqlite:///tenants/satit-school.db"

    assert (tenant.status, tenant.name, tenant.tables_created) == (
        TenantStatus.ACTIVE,
        THAI_NAME,
        tuple(sorted(SCHOOL_TABLES)),
    )
    assert k.steps(tenant.id) == [("PROVISIONING", s) for s in STEPS[:-1]] + [("ACTIVE", "DONE")]
    stored = document(k.sidecar, tenant.id)
    assert {key: stored[key] for key in ("status", "step", "reason", "databaseUrl", "attempts", "adminEmail")} == {
        "status": "ACTIVE",
        "step": "DONE",
        "reason": None,
        "databaseUrl": url,
        "attempts": 1,
        "adminEmail": "principal@school.example",
    }
    assert stored["tablesCreated"] == sorted(SCHOOL_TABLES)
    assert k.sidecar.state[("statestore", subdomain_key("satit-school"))].value == {"tenantId": tenant.id}
    assert k.sidecar.indexed(INDEX_KEY) == [tenant.id]

    [invocation] = k.sidecar.invocations
    assert invocation == ("provisioner", "POST", "/init-database", {PROVISIONER_KEY_HEADER: PROVISIONER_KEY})
    assert k.databases.created == [url] and k.databases.removed == []
    [((db, email), password_hash)] = k.admins.rows.items()
    assert (db, email, password_hash) == (url, "principal@school.example", stored["adminPasswordHash"])
    assert PasswordHasher().verify(password_hash, "correct horse battery")
    assert password_hash.startswith("$argon2id$")

    assert staged(k.sidecar) == [
        (
            "tenant.provisioned",
            {
                "tenantId": tenant.id,
                "subdomain": "satit-school",
                "name": THAI_NAME,
                "tablesCreated": sorted(SCHOOL_TABLES),
                "userId": "platform-admin-1",
            },
        )
    ]


def test_provisioner_receives_the_database_url() -> None:
    seen: list[Any] = []

    async def provisioner(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        seen.append(json)
        return await provisioner_ok()(method, path, json, params)

    create(kit(provisioner=provisioner), subdomain="url-check")
    assert seen == [{"databaseUrl": "sqlite+aiosqlite:///tenants/url-check.db"}]


def fails(k: Kit, **overrides: Any) -> ProvisioningFailed:
    with pytest.raises(ProvisioningFailed) as caught:
        create(k, **overrides)
    return caught.value


def test_provisioner_down_fails_the_tenant_removes_its_database_and_stages_the_failure() -> None:
    k = kit()
    del k.sidecar.apps["provisioner"]  # the FakeSidecar answers SERVICE_UNAVAILABLE, as Dapr does for a dead app
    error = fails(k, subdomain="down-school")

    assert (error.status, error.code) == (424, "PROVISIONING_FAILED")
    tenant_id, reason = error.details["tenantId"], error.details["reason"]
    assert reason.startswith("running the migrations failed: ")
    assert "SERVICE_UNAVAILABLE" in reason
    stored = document(k.sidecar, tenant_id)
    assert (stored["status"], stored["step"], stored["reason"]) == ("FAILED", "DATABASE_CREATED", reason)
    assert k.steps(tenant_id) == [
        ("PROVISIONING", "RECORDED"),
        ("PROVISIONING", "DATABASE_CREATED"),
        ("FAILED", "DATABASE_CREATED"),
    ]
    url = "sqlite+aiosqlite:///tenants/down-school.db"
    assert (k.databases.removed, k.databases.existing) == ([url], set())
    assert k.admins.rows == {}
    assert staged(k.sidecar) == [
        (
            "tenant.provisioning_failed",
            {
                "tenantId": tenant_id,
                "subdomain": "down-school",
                "name": THAI_NAME,
                "reason": reason,
                "userId": "platform-admin-1",
            },
        )
    ]


def test_retry_after_the_provisioner_is_back_succeeds() -> None:
    k = kit()
    del k.sidecar.apps["provisioner"]
    tenant_id = fails(k).details["tenantId"]
    k.sidecar.apps["provisioner"] = provisioner_ok()

    tenant = retry(k, tenant_id, requested_by="platform-admin-2")
    assert (tenant.status, tenant.attempts, tenant.reason, tenant.requested_by) == (
        TenantStatus.ACTIVE,
        2,
        None,
        "platform-admin-2",
    )
    assert len(k.databases.created) == 2 and k.databases.existing == {tenant.database_url}
    stored = document(k.sidecar, tenant_id)
    assert (stored["status"], stored["step"], stored["attempts"]) == ("ACTIVE", "DONE", 2)
    # The first admin gets the password given at creation: only its hash was kept for the retry.
    assert PasswordHasher().verify(
        k.admins.rows[(tenant.database_url, "principal@school.example")], "correct horse battery"
    )
    assert [topic for topic, _ in staged(k.sidecar)] == ["tenant.provisioning_failed", "tenant.provisioned"]
    assert staged(k.sidecar)[1][1]["userId"] == "platform-admin-2"


def test_retry_of_an_active_tenant_is_refused() -> None:
    k = kit()
    tenant = create(k)
    with pytest.raises(TenantNotRetryable) as caught:
        retry(k, tenant.id)
    assert (caught.value.status, caught.value.code) == (409, "TENANT_NOT_RETRYABLE")
    assert document(k.sidecar, tenant.id)["attempts"] == 1


@pytest.mark.parametrize("tenant_id", ["0" * 32, "no such id", "a" * 65, ""])
def test_retry_of_an_unknown_tenant_is_not_found(tenant_id: str) -> None:
    with pytest.raises(TenantNotFound) as caught:
        retry(kit(), tenant_id)
    assert (caught.value.status, caught.value.code) == (404, "TENANT_NOT_FOUND")


@pytest.mark.parametrize("first_outcome", ["active", "failed"])
def test_a_taken_subdomain_is_refused_even_when_its_tenant_failed(first_outcome: str) -> None:
    k = kit()
    if first_outcome == "failed":
        del k.sidecar.apps["provisioner"]
        fails(k, subdomain="taken")
    else:
        create(k, subdomain="taken")
    k.sidecar.apps["provisioner"] = provisioner_ok()
    with pytest.raises(SubdomainTaken) as caught:
        create(k, subdomain="taken", name="Another school")
    assert (caught.value.status, caught.value.code) == (409, "SUBDOMAIN_TAKEN")
    assert len(k.sidecar.indexed(INDEX_KEY)) == 1


def test_concurrent_creates_of_one_subdomain_make_one_tenant() -> None:
    k = kit()

    async def both() -> list[Any]:
        creates = [service.create_tenant(command(subdomain="race"), onboarding=k.onboarding) for _ in range(2)]
        return list(await asyncio.gather(*creates, return_exceptions=True))

    outcomes = asyncio.run(both())
    assert sorted(type(o).__name__ for o in outcomes) == ["SubdomainTaken", "Tenant"]
    assert len(k.sidecar.indexed(INDEX_KEY)) == 1


@pytest.mark.parametrize(
    ("break_it", "reason_start", "stopped_at", "code"),
    [
        (
            lambda k: setattr(k.databases, "create_error", OSError("disk full")),
            "creating the database failed",
            "RECORDED",
            "OSError",
        ),
        (
            lambda k: k.sidecar.apps.update(provisioner=refusing),
            "running the migrations failed",
            "DATABASE_CREATED",
            "CALLER_NOT_ALLOWED",
        ),
        (
            lambda k: k.sidecar.apps.update(provisioner=garbled),
            "running the migrations failed",
            "DATABASE_CREATED",
            "PROVISIONER_BAD_ANSWER",
        ),
        (
            lambda k: setattr(k.admins, "error", RuntimeError("no admin_users")),
            "creating the first administrator failed",
            "MIGRATED",
            "RuntimeError",
        ),
    ],
)
def test_a_failure_at_any_step_is_recorded_where_it_stopped(
    break_it: Any, reason_start: str, stopped_at: str, code: str
) -> None:
    k = kit()
    break_it(k)
    error = fails(k)
    stored = document(k.sidecar, error.details["tenantId"])
    assert (stored["status"], stored["step"]) == ("FAILED", stopped_at)
    assert stored["reason"].startswith(reason_start) and code in stored["reason"]
    assert k.databases.removed == [stored["databaseUrl"]]
    assert [topic for topic, _ in staged(k.sidecar)] == ["tenant.provisioning_failed"]


async def refusing(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
    raise Forbidden("Only admin may call the provisioner.", code="CALLER_NOT_ALLOWED")


async def garbled(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
    return {"success": True, "tablesCreated": "admin_users"}


def test_a_run_taken_over_meanwhile_stops_without_touching_the_database() -> None:
    k = kit()

    async def slow_provisioner(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        # While this run waits on the provisioner, a retry takes the (stale-looking) tenant over.
        [tenant_id] = k.sidecar.indexed(INDEX_KEY)
        age(k.sidecar, tenant_id, 600)
        return await provisioner_ok()(method, path, json, params)

    k.sidecar.apps["provisioner"] = slow_provisioner
    with pytest.raises(ProvisioningSuperseded) as caught:
        create(k)
    assert (caught.value.status, caught.value.code) == (409, "PROVISIONING_SUPERSEDED")
    assert k.databases.removed == []
    assert staged(k.sidecar) == []


def test_a_failing_run_taken_over_meanwhile_leaves_the_database_to_the_new_owner() -> None:
    k = kit()

    async def taken_over_then_down(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        [tenant_id] = k.sidecar.indexed(INDEX_KEY)
        age(k.sidecar, tenant_id, 600)  # a retry took the tenant over and is using the same database
        raise DependencyUnavailable("The provisioner service is unavailable.", code="SERVICE_UNAVAILABLE")

    k.sidecar.apps["provisioner"] = taken_over_then_down
    with pytest.raises(ProvisioningSuperseded):
        create(k)
    assert k.databases.removed == []
    assert staged(k.sidecar) == []


def test_a_provisioning_tenant_is_retried_only_once_its_run_looks_dead() -> None:
    k = kit(stale_seconds=120)
    tenant_id = stuck_provisioning(k)
    k.sidecar.apps["provisioner"] = provisioner_ok()
    with pytest.raises(TenantNotRetryable):
        retry(k, tenant_id)
    age(k.sidecar, tenant_id, 121)
    tenant = retry(k, tenant_id)
    assert (tenant.status, tenant.attempts) == (TenantStatus.ACTIVE, 2)


def test_start_up_recovery_fails_interrupted_tenants_so_they_can_be_retried() -> None:
    k = kit()
    active = create(k)
    del k.sidecar.apps["provisioner"]
    failed_id = fails(k).details["tenantId"]
    interrupted = stuck_provisioning(k)
    before = len(staged(k.sidecar))

    recovered = asyncio.run(service.recover_interrupted(older_than_seconds=0, onboarding=k.onboarding))
    assert recovered == [interrupted]
    stored = document(k.sidecar, interrupted)
    assert (stored["status"], stored["reason"]) == ("FAILED", INTERRUPTED)
    assert stored["databaseUrl"] in k.databases.removed
    assert staged(k.sidecar)[before:] == [
        (
            "tenant.provisioning_failed",
            {
                "tenantId": interrupted,
                "subdomain": stored["subdomain"],
                "name": THAI_NAME,
                "reason": INTERRUPTED,
                "userId": "platform-admin-1",
            },
        )
    ]
    assert document(k.sidecar, active.id)["status"] == "ACTIVE"
    assert document(k.sidecar, failed_id)["status"] == "FAILED"

    k.sidecar.apps["provisioner"] = provisioner_ok()
    assert retry(k, interrupted).status is TenantStatus.ACTIVE


def test_recovery_leaves_tenants_that_moved_recently_alone() -> None:
    k = kit()
    interrupted = stuck_provisioning(k)
    assert asyncio.run(service.recover_interrupted(older_than_seconds=120, onboarding=k.onboarding)) == []
    assert document(k.sidecar, interrupted)["status"] == "PROVISIONING"
    age(k.sidecar, interrupted, 121)
    assert asyncio.run(service.recover_interrupted(older_than_seconds=120, onboarding=k.onboarding)) == [interrupted]


def stuck_provisioning(k: Kit) -> str:
    """A tenant whose run died after creating its database (the provisioner never answered)."""

    async def dies(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        raise asyncio.CancelledError  # the process went away mid-call: nothing after this ran

    k.sidecar.apps["provisioner"] = dies
    with pytest.raises(asyncio.CancelledError):
        create(k)
    [*_, tenant_id] = k.sidecar.indexed(INDEX_KEY)
    assert document(k.sidecar, tenant_id)["step"] == "DATABASE_CREATED"
    return tenant_id


def test_state_store_down_during_recovery_does_not_stop_admin() -> None:
    k = kit()

    async def down(key: str, *, store: str | None = None) -> Any:
        raise DependencyUnavailable("Reading state failed.", code="STATE_UNAVAILABLE")

    k.sidecar.get_state = down  # type: ignore[method-assign]
    assert asyncio.run(service.recover_interrupted(older_than_seconds=0, onboarding=k.onboarding)) == []
