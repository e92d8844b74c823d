"""The provisioning workflow over the FakeSidecar: steps saved, failures compensated, retries, runs resumed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from argon2 import PasswordHasher

from apps.admin.tenants import service
from apps.admin.tenants.domain import (
    ProvisioningFailed,
    SubdomainTaken,
    TenantNotFound,
    TenantNotRetryable,
    TenantStatus,
)
from apps.admin.tenants.engine import RunState
from apps.admin.tenants.steps import SUPERSEDED, Run, perform
from apps.admin.tenants.storage import INDEX_KEY, subdomain_key, tenant_key
from apps.admin.tenants.workflow import COMPENSATE, STEPS, instance_id
from servicekit import DependencyUnavailable, Forbidden
from servicekit.provisioning import PROVISIONER_KEY_HEADER
from servicekit.sidecar import StateItem
from tests.unit.admin.fakes import PROVISIONER_KEY, SCHOOL_TABLES, provisioner_ok
from tests.unit.admin.helpers import THAI_NAME, Kit, command, create, document, kit, retry, staged

RECORDED_STEPS = ["RECORDED", "DATABASE_CREATED", "MIGRATED", "ADMIN_CREATED", "DONE"]

pytestmark = pytest.mark.anyio


async def test_happy_saga_saves_every_step_and_stages_tenant_provisioned() -> None:
    k = kit()
    tenant = await create(k, subdomain="satit-school")
    url = "sqlite+aiosqlite:///tenants/satit-school.db"

    assert (tenant.status, tenant.name, tenant.tables_created) == (
        TenantStatus.ACTIVE,
        THAI_NAME,
        tuple(sorted(SCHOOL_TABLES)),
    )
    assert k.steps(tenant.id) == [("PROVISIONING", s) for s in RECORDED_STEPS[:-1]] + [("ACTIVE", "DONE")]
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


async def test_provisioner_receives_the_database_url() -> None:
    seen: list[Any] = []

    async def provisioner(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        seen.append(json)
        return await provisioner_ok()(method, path, json, params)

    await create(kit(provisioner=provisioner), subdomain="url-check")
    assert seen == [{"databaseUrl": "sqlite+aiosqlite:///tenants/url-check.db"}]


async def fails(k: Kit, **overrides: Any) -> ProvisioningFailed:
    with pytest.raises(ProvisioningFailed) as caught:
        await create(k, **overrides)
    return caught.value


async def test_provisioner_down_fails_the_tenant_removes_its_database_and_stages_the_failure() -> None:
    k = kit()
    del k.sidecar.apps["provisioner"]  # the FakeSidecar answers SERVICE_UNAVAILABLE, as Dapr does for a dead app
    error = await fails(k, subdomain="down-school")

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


async def test_retry_after_the_provisioner_is_back_succeeds() -> None:
    k = kit()
    del k.sidecar.apps["provisioner"]
    tenant_id = (await fails(k)).details["tenantId"]
    k.sidecar.apps["provisioner"] = provisioner_ok()

    tenant = await retry(k, tenant_id, requested_by="platform-admin-2")
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


async def test_retry_of_an_active_tenant_is_refused() -> None:
    k = kit()
    tenant = await create(k)
    with pytest.raises(TenantNotRetryable) as caught:
        await retry(k, tenant.id)
    assert (caught.value.status, caught.value.code) == (409, "TENANT_NOT_RETRYABLE")
    assert document(k.sidecar, tenant.id)["attempts"] == 1


@pytest.mark.parametrize("tenant_id", ["0" * 32, "no such id", "a" * 65, ""])
async def test_retry_of_an_unknown_tenant_is_not_found(tenant_id: str) -> None:
    with pytest.raises(TenantNotFound) as caught:
        await retry(kit(), tenant_id)
    assert (caught.value.status, caught.value.code) == (404, "TENANT_NOT_FOUND")


@pytest.mark.parametrize("first_outcome", ["active", "failed"])
async def test_a_taken_subdomain_is_refused_even_when_its_tenant_failed(first_outcome: str) -> None:
    k = kit()
    if first_outcome == "failed":
        del k.sidecar.apps["provisioner"]
        await fails(k, subdomain="taken")
    else:
        await create(k, subdomain="taken")
    k.sidecar.apps["provisioner"] = provisioner_ok()
    with pytest.raises(SubdomainTaken) as caught:
        await create(k, subdomain="taken", name="Another school")
    assert (caught.value.status, caught.value.code) == (409, "SUBDOMAIN_TAKEN")
    assert len(k.sidecar.indexed(INDEX_KEY)) == 1


async def test_concurrent_creates_of_one_subdomain_make_one_tenant() -> None:
    k = kit()
    creates = [service.create_tenant(command(subdomain="race"), onboarding=k.onboarding) for _ in range(2)]
    outcomes = await asyncio.gather(*creates, return_exceptions=True)
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
async def test_a_failure_at_any_step_is_recorded_where_it_stopped(
    break_it: Any, reason_start: str, stopped_at: str, code: str
) -> None:
    k = kit()
    break_it(k)
    error = await fails(k)
    stored = document(k.sidecar, error.details["tenantId"])
    assert (stored["status"], stored["step"]) == ("FAILED", stopped_at)
    assert stored["reason"].startswith(reason_start) and code in stored["reason"]
    assert k.databases.removed == [stored["databaseUrl"]]
    assert [topic for topic, _ in staged(k.sidecar)] == ["tenant.provisioning_failed"]


async def refusing(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
    raise Forbidden("Only admin may call the provisioner.", code="CALLER_NOT_ALLOWED")


async def garbled(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
    return {"success": True, "tablesCreated": "admin_users"}


async def test_the_workflow_calls_each_step_once_in_order_each_with_its_retry_policy() -> None:
    k = kit()
    tenant = await create(k)
    driven = k.workflows.driven[instance_id(Run(tenant.id, 1))]
    assert driven.outcome == "ACTIVE"
    assert [call.activity for call in driven.calls] == [name for name, _, _ in STEPS]
    assert all(call.retry_policy is not None and call.retry_policy.max_number_of_attempts > 1 for call in driven.calls)
    assert all(call.input == {"tenantId": tenant.id, "attempt": 1} for call in driven.calls)


async def test_a_step_that_fails_then_recovers_within_its_retry_policy_is_no_failure() -> None:
    k = kit()
    flaky_answers = [DependencyUnavailable("The provisioner is restarting.", code="SERVICE_UNAVAILABLE")] * 2

    async def flaky(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        if flaky_answers:
            raise flaky_answers.pop()
        return await provisioner_ok()(method, path, json, params)

    k.sidecar.apps["provisioner"] = flaky
    tenant = await create(k)
    assert tenant.status is TenantStatus.ACTIVE
    assert k.workflows.driven[instance_id(Run(tenant.id, 1))].attempts["run_migrations"] == 3
    assert k.databases.removed == []


async def test_a_step_out_of_retries_is_compensated_once() -> None:
    k = kit()
    del k.sidecar.apps["provisioner"]
    tenant_id = (await fails(k)).details["tenantId"]
    driven = k.workflows.driven[instance_id(Run(tenant_id, 1))]
    [migrations] = [name for name, _, _ in STEPS if name == "run_migrations"]
    assert driven.attempts[migrations] == 3 and len(k.sidecar.invocations) == 3
    assert [call.activity for call in driven.calls] == ["create_database", "run_migrations", COMPENSATE]
    assert driven.calls[-1].input["reason"].startswith("running the migrations failed: ")
    assert driven.outcome == "FAILED"


async def test_every_step_run_twice_changes_nothing_the_second_time() -> None:
    """The engine runs an activity again when admin died before its result was recorded."""
    k = kit()
    k.workflows.hold = True  # recorded and scheduled; the steps are run by hand below
    tenant = await create(k)
    run = Run(tenant.id, 1)
    twice = [await perform(name, k.on, run.as_input()) for name, _, _ in STEPS for _ in range(2)]
    answers = ("DATABASE_CREATED", "MIGRATED", "ADMIN_CREATED", "ACTIVE")
    assert twice == [answer for answer in answers for _ in range(2)]
    assert document(k.sidecar, tenant.id)["status"] == "ACTIVE"
    assert k.steps(tenant.id) == [("PROVISIONING", s) for s in RECORDED_STEPS[:-1]] + [("ACTIVE", "DONE")]
    assert [topic for topic, _ in staged(k.sidecar)] == ["tenant.provisioned"]
    assert len(k.admins.rows) == 1


async def test_compensation_run_twice_removes_and_announces_once() -> None:
    k = kit()
    k.workflows.hold = True
    tenant = await create(k)
    compensation = {"tenantId": tenant.id, "attempt": 1, "reason": "running the migrations failed: gone"}
    assert [await perform(COMPENSATE, k.on, compensation) for _ in range(2)] == ["FAILED", "FAILED"]
    assert k.databases.removed == [tenant.database_url]
    assert [topic for topic, _ in staged(k.sidecar)] == ["tenant.provisioning_failed"]


async def test_compensation_never_undoes_an_active_tenant() -> None:
    k = kit()
    tenant = await create(k)
    compensation = {"tenantId": tenant.id, "attempt": 1, "reason": "late"}
    assert await perform(COMPENSATE, k.on, compensation) == "ACTIVE"
    assert k.databases.removed == [] and document(k.sidecar, tenant.id)["status"] == "ACTIVE"


def bump_attempt(k: Kit, tenant_id: str) -> None:
    """Make the stored tenant a newer attempt's, as a retry would (the ETag changes too)."""
    slot = ("statestore", tenant_key(tenant_id))
    value = dict(k.sidecar.state[slot].value)
    value["attempts"] = int(value["attempts"]) + 1
    k.sidecar.state[slot] = StateItem(value, "newer")


async def test_a_run_superseded_meanwhile_stops_without_touching_the_database() -> None:
    k = kit()

    async def slow_provisioner(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        [tenant_id] = k.sidecar.indexed(INDEX_KEY)
        bump_attempt(k, tenant_id)  # while this run waits on the provisioner, a newer attempt owns the tenant
        return await provisioner_ok()(method, path, json, params)

    k.sidecar.apps["provisioner"] = slow_provisioner
    tenant = await create(k)
    assert k.workflows.driven[instance_id(Run(tenant.id, 1))].outcome == SUPERSEDED
    assert k.databases.removed == [] and staged(k.sidecar) == []


async def test_a_failing_superseded_run_leaves_the_database_to_the_new_owner() -> None:
    k = kit()

    async def taken_over_then_down(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        [tenant_id] = k.sidecar.indexed(INDEX_KEY)
        bump_attempt(k, tenant_id)
        raise DependencyUnavailable("The provisioner service is unavailable.", code="SERVICE_UNAVAILABLE")

    k.sidecar.apps["provisioner"] = taken_over_then_down
    tenant = await create(k)
    assert k.workflows.driven[instance_id(Run(tenant.id, 1))].outcome == SUPERSEDED
    assert k.databases.removed == [] and staged(k.sidecar) == []


async def test_a_provisioning_tenant_is_retried_only_once_its_workflow_has_ended() -> None:
    k = kit()
    k.workflows.hold = True
    tenant = await create(k)
    assert tenant.status is TenantStatus.PROVISIONING  # the request stopped waiting; the workflow goes on
    with pytest.raises(TenantNotRetryable):
        await retry(k, tenant.id)
    k.workflows.hold = False
    k.workflows.states[instance_id(Run(tenant.id, 1))] = RunState.ENDED  # it ended without finishing the tenant
    again = await retry(k, tenant.id)
    assert (again.status, again.attempts) == (TenantStatus.ACTIVE, 2)


async def test_start_up_schedules_the_workflow_of_a_tenant_recorded_without_one() -> None:
    k = kit()
    active = await create(k)
    k.workflows.hold = True
    orphan = await create(k)  # recorded, scheduled in this kit, but pretend admin died before scheduling it
    k.workflows.states.clear()
    k.workflows.hold = False

    assert await service.resume_unscheduled(onboarding=k.onboarding) == [orphan.id]
    assert document(k.sidecar, orphan.id)["status"] == "ACTIVE"
    assert document(k.sidecar, active.id)["status"] == "ACTIVE"
    assert await service.resume_unscheduled(onboarding=k.onboarding) == []


async def test_state_store_down_at_start_up_does_not_stop_admin() -> None:
    k = kit()

    async def down(key: str, *, store: str | None = None) -> Any:
        raise DependencyUnavailable("Reading state failed.", code="STATE_UNAVAILABLE")

    k.sidecar.get_state = down  # type: ignore[method-assign]
    assert await service.resume_unscheduled(onboarding=k.onboarding) == []
