"""The provisioning workflow over the FakeSidecar: steps saved, failures compensated, retries, runs resumed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
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
from apps.admin.tenants.service.engine import RunState
from apps.admin.tenants.service.steps import SUPERSEDED, Run, perform
from apps.admin.tenants.service.workflow import COMPENSATE, STEPS, instance_id
from apps.admin.tenants.storage import INDEX_KEY, subdomain_key, tenant_key
from servicekit import DependencyUnavailable, Forbidden
from servicekit.provisioning import PROVISIONER_KEY_HEADER
from servicekit.sidecar import StateItem
from tests.unit.admin.fakes import PROVISIONER_KEY, SCHOOL_TABLES, provisioner_ok
from tests.unit.admin.helpers import THAI_NAME, Kit, command, create, document, onboarding_kit, retry, staged

RECORDED_STEPS = ["RECORDED", "DATABASE_CREATED", "MIGRATED", "ADMIN_CREATED", "DONE"]

pytestmark = pytest.mark.anyio


async def test_happy_saga_saves_every_step_and_stages_tenant_provisioned(kit: Kit) -> None:
    tenant = await create(kit, subdomain="satit-school")
    url = "sqlite+aiosqlite:///tenants/satit-school.db"

    assert (tenant.status, tenant.name, tenant.tables_created) == (
        TenantStatus.ACTIVE,
        THAI_NAME,
        tuple(sorted(SCHOOL_TABLES)),
    )
    assert kit.steps(tenant.id) == [("PROVISIONING", s) for s in RECORDED_STEPS[:-1]] + [("ACTIVE", "DONE")]
    stored = document(kit.sidecar, tenant.id)
    assert {key: stored[key] for key in ("status", "step", "reason", "databaseUrl", "attempts", "adminEmail")} == {
        "status": "ACTIVE",
        "step": "DONE",
        "reason": None,
        "databaseUrl": url,
        "attempts": 1,
        "adminEmail": "principal@school.example",
    }
    assert stored["tablesCreated"] == sorted(SCHOOL_TABLES)
    assert kit.sidecar.state[("statestore", subdomain_key("satit-school"))].value == {"tenantId": tenant.id}
    assert kit.sidecar.indexed(INDEX_KEY) == [tenant.id]

    [invocation] = kit.sidecar.invocations
    assert invocation == ("provisioner", "POST", "/init-database", {PROVISIONER_KEY_HEADER: PROVISIONER_KEY})
    assert kit.databases.created == [url] and kit.databases.removed == []
    [((db, email), password_hash)] = kit.admins.rows.items()
    assert (db, email, password_hash) == (url, "principal@school.example", stored["adminPasswordHash"])
    assert PasswordHasher().verify(password_hash, "correct horse battery")
    assert password_hash.startswith("$argon2id$")

    assert staged(kit.sidecar) == [
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

    await create(onboarding_kit(provisioner=provisioner), subdomain="url-check")
    assert seen == [{"databaseUrl": "sqlite+aiosqlite:///tenants/url-check.db"}]


async def fails(k: Kit, **overrides: Any) -> ProvisioningFailed:
    with pytest.raises(ProvisioningFailed) as caught:
        await create(k, **overrides)
    return caught.value


async def test_provisioner_down_fails_the_tenant_removes_its_database_and_stages_the_failure(kit: Kit) -> None:
    del kit.sidecar.apps["provisioner"]  # the FakeSidecar answers SERVICE_UNAVAILABLE, as Dapr does for a dead app
    error = await fails(kit, subdomain="down-school")

    assert (error.status, error.code) == (424, "PROVISIONING_FAILED")
    tenant_id, reason = error.details["tenantId"], error.details["reason"]
    assert reason.startswith("running the migrations failed: ")
    assert "SERVICE_UNAVAILABLE" in reason
    stored = document(kit.sidecar, tenant_id)
    assert (stored["status"], stored["step"], stored["reason"]) == ("FAILED", "DATABASE_CREATED", reason)
    assert kit.steps(tenant_id) == [
        ("PROVISIONING", "RECORDED"),
        ("PROVISIONING", "DATABASE_CREATED"),
        ("FAILED", "DATABASE_CREATED"),
    ]
    url = "sqlite+aiosqlite:///tenants/down-school.db"
    assert (kit.databases.removed, kit.databases.existing) == ([url], set())
    assert kit.admins.rows == {}
    assert staged(kit.sidecar) == [
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


async def test_retry_after_the_provisioner_is_back_succeeds(kit: Kit) -> None:
    del kit.sidecar.apps["provisioner"]
    tenant_id = (await fails(kit)).details["tenantId"]
    kit.sidecar.apps["provisioner"] = provisioner_ok()

    tenant = await retry(kit, tenant_id, requested_by="platform-admin-2")
    assert (tenant.status, tenant.attempts, tenant.reason, tenant.requested_by) == (
        TenantStatus.ACTIVE,
        2,
        None,
        "platform-admin-2",
    )
    assert len(kit.databases.created) == 2 and kit.databases.existing == {tenant.database_url}
    stored = document(kit.sidecar, tenant_id)
    assert (stored["status"], stored["step"], stored["attempts"]) == ("ACTIVE", "DONE", 2)
    # The first admin gets the password given at creation: only its hash was kept for the retry.
    assert PasswordHasher().verify(
        kit.admins.rows[(tenant.database_url, "principal@school.example")], "correct horse battery"
    )
    assert [topic for topic, _ in staged(kit.sidecar)] == ["tenant.provisioning_failed", "tenant.provisioned"]
    assert staged(kit.sidecar)[1][1]["userId"] == "platform-admin-2"


async def test_retry_of_an_active_tenant_is_refused(kit: Kit) -> None:
    tenant = await create(kit)
    with pytest.raises(TenantNotRetryable) as caught:
        await retry(kit, tenant.id)
    assert (caught.value.status, caught.value.code) == (409, "TENANT_NOT_RETRYABLE")
    assert document(kit.sidecar, tenant.id)["attempts"] == 1


@pytest.mark.parametrize("tenant_id", ["0" * 32, "no such id", "a" * 65, ""])
async def test_retry_of_an_unknown_tenant_is_not_found(tenant_id: str) -> None:
    with pytest.raises(TenantNotFound) as caught:
        await retry(onboarding_kit(), tenant_id)
    assert (caught.value.status, caught.value.code) == (404, "TENANT_NOT_FOUND")


@pytest.mark.parametrize("first_outcome", ["active", "failed"])
async def test_a_taken_subdomain_is_refused_even_when_its_tenant_failed(first_outcome: str, kit: Kit) -> None:
    if first_outcome == "failed":
        del kit.sidecar.apps["provisioner"]
        await fails(kit, subdomain="taken")
    else:
        await create(kit, subdomain="taken")
    kit.sidecar.apps["provisioner"] = provisioner_ok()
    with pytest.raises(SubdomainTaken) as caught:
        await create(kit, subdomain="taken", name="Another school")
    assert (caught.value.status, caught.value.code) == (409, "SUBDOMAIN_TAKEN")
    assert len(kit.sidecar.indexed(INDEX_KEY)) == 1


async def test_concurrent_creates_of_one_subdomain_make_one_tenant(kit: Kit) -> None:
    creates = [service.create_tenant(command(subdomain="race"), onboarding=kit.onboarding) for _ in range(2)]
    outcomes = await asyncio.gather(*creates, return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["SubdomainTaken", "Tenant"]
    assert len(kit.sidecar.indexed(INDEX_KEY)) == 1


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
    break_it: Any,
    reason_start: str,
    stopped_at: str,
    code: str,
    kit: Kit,
) -> None:
    break_it(kit)
    error = await fails(kit)
    stored = document(kit.sidecar, error.details["tenantId"])
    assert (stored["status"], stored["step"]) == ("FAILED", stopped_at)
    assert stored["reason"].startswith(reason_start) and code in stored["reason"]
    assert kit.databases.removed == [stored["databaseUrl"]]
    assert [topic for topic, _ in staged(kit.sidecar)] == ["tenant.provisioning_failed"]


async def refusing(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
    raise Forbidden("Only admin may call the provisioner.", code="CALLER_NOT_ALLOWED")


async def garbled(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
    return {"success": True, "tablesCreated": "admin_users"}


async def test_the_workflow_calls_each_step_once_in_order_each_with_its_retry_policy(kit: Kit) -> None:
    tenant = await create(kit)
    driven = kit.workflows.driven[instance_id(Run(tenant.id, 1))]
    assert driven.outcome == "ACTIVE"
    assert [call.activity for call in driven.calls] == [name for name, _, _ in STEPS]
    assert all(call.retry_policy is not None and call.retry_policy.max_number_of_attempts > 1 for call in driven.calls)
    assert all(call.input == {"tenantId": tenant.id, "attempt": 1} for call in driven.calls)


async def test_a_step_that_fails_then_recovers_within_its_retry_policy_is_no_failure(kit: Kit) -> None:
    flaky_answers = [DependencyUnavailable("The provisioner is restarting.", code="SERVICE_UNAVAILABLE")] * 2

    async def flaky(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        if flaky_answers:
            raise flaky_answers.pop()
        return await provisioner_ok()(method, path, json, params)

    kit.sidecar.apps["provisioner"] = flaky
    tenant = await create(kit)
    assert tenant.status is TenantStatus.ACTIVE
    assert kit.workflows.driven[instance_id(Run(tenant.id, 1))].attempts["run_migrations"] == 3
    assert kit.databases.removed == []


async def test_a_step_out_of_retries_is_compensated_once(kit: Kit) -> None:
    del kit.sidecar.apps["provisioner"]
    tenant_id = (await fails(kit)).details["tenantId"]
    driven = kit.workflows.driven[instance_id(Run(tenant_id, 1))]
    [migrations] = [name for name, _, _ in STEPS if name == "run_migrations"]
    assert driven.attempts[migrations] == 3 and len(kit.sidecar.invocations) == 3
    assert [call.activity for call in driven.calls] == ["create_database", "run_migrations", COMPENSATE]
    assert driven.calls[-1].input["reason"].startswith("running the migrations failed: ")
    assert driven.outcome == "FAILED"


async def test_every_step_run_twice_changes_nothing_the_second_time(kit: Kit) -> None:
    """The engine runs an activity again when admin died before its result was recorded."""
    kit.workflows.hold = True  # recorded and scheduled; the steps are run by hand below
    tenant = await create(kit)
    run = Run(tenant.id, 1)
    twice = [await perform(name, kit.on, run.as_input()) for name, _, _ in STEPS for _ in range(2)]
    answers = ("DATABASE_CREATED", "MIGRATED", "ADMIN_CREATED", "ACTIVE")
    assert twice == [answer for answer in answers for _ in range(2)]
    assert document(kit.sidecar, tenant.id)["status"] == "ACTIVE"
    assert kit.steps(tenant.id) == [("PROVISIONING", s) for s in RECORDED_STEPS[:-1]] + [("ACTIVE", "DONE")]
    assert [topic for topic, _ in staged(kit.sidecar)] == ["tenant.provisioned"]
    assert len(kit.admins.rows) == 1


async def test_compensation_run_twice_removes_and_announces_once(kit: Kit) -> None:
    kit.workflows.hold = True
    tenant = await create(kit)
    compensation = {"tenantId": tenant.id, "attempt": 1, "reason": "running the migrations failed: gone"}
    assert [await perform(COMPENSATE, kit.on, compensation) for _ in range(2)] == ["FAILED", "FAILED"]
    assert kit.databases.removed == [tenant.database_url]
    assert [topic for topic, _ in staged(kit.sidecar)] == ["tenant.provisioning_failed"]


async def test_compensation_never_undoes_an_active_tenant(kit: Kit) -> None:
    tenant = await create(kit)
    compensation = {"tenantId": tenant.id, "attempt": 1, "reason": "late"}
    assert await perform(COMPENSATE, kit.on, compensation) == "ACTIVE"
    assert kit.databases.removed == [] and document(kit.sidecar, tenant.id)["status"] == "ACTIVE"


def bump_attempt(k: Kit, tenant_id: str) -> None:
    """Make the stored tenant a newer attempt's, as a retry would (the ETag changes too)."""
    slot = ("statestore", tenant_key(tenant_id))
    value = dict(k.sidecar.state[slot].value)
    value["attempts"] = int(value["attempts"]) + 1
    k.sidecar.state[slot] = StateItem(value, "newer")


async def test_a_run_superseded_meanwhile_stops_without_touching_the_database(kit: Kit) -> None:

    async def slow_provisioner(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        [tenant_id] = kit.sidecar.indexed(INDEX_KEY)
        bump_attempt(kit, tenant_id)  # while this run waits on the provisioner, a newer attempt owns the tenant
        return await provisioner_ok()(method, path, json, params)

    kit.sidecar.apps["provisioner"] = slow_provisioner
    tenant = await create(kit)
    assert kit.workflows.driven[instance_id(Run(tenant.id, 1))].outcome == SUPERSEDED
    assert kit.databases.removed == [] and staged(kit.sidecar) == []


async def test_a_failing_superseded_run_leaves_the_database_to_the_new_owner(kit: Kit) -> None:

    async def taken_over_then_down(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        [tenant_id] = kit.sidecar.indexed(INDEX_KEY)
        bump_attempt(kit, tenant_id)
        raise DependencyUnavailable("The provisioner service is unavailable.", code="SERVICE_UNAVAILABLE")

    kit.sidecar.apps["provisioner"] = taken_over_then_down
    tenant = await create(kit)
    assert kit.workflows.driven[instance_id(Run(tenant.id, 1))].outcome == SUPERSEDED
    assert kit.databases.removed == [] and staged(kit.sidecar) == []


async def test_a_provisioning_tenant_is_retried_only_once_its_workflow_has_ended(kit: Kit) -> None:
    kit.workflows.hold = True
    tenant = await create(kit)
    assert tenant.status is TenantStatus.PROVISIONING  # the request stopped waiting; the workflow goes on
    with pytest.raises(TenantNotRetryable):
        await retry(kit, tenant.id)
    kit.workflows.hold = False
    kit.workflows.states[instance_id(Run(tenant.id, 1))] = RunState.ENDED  # it ended without finishing the tenant
    again = await retry(kit, tenant.id)
    assert (again.status, again.attempts) == (TenantStatus.ACTIVE, 2)


async def test_start_up_schedules_the_workflow_of_a_tenant_recorded_without_one(kit: Kit) -> None:
    active = await create(kit)
    kit.workflows.hold = True
    orphan = await create(kit)  # recorded, scheduled in this kit, but pretend admin died before scheduling it
    kit.workflows.states.clear()
    kit.workflows.hold = False

    assert await service.resume_unscheduled(onboarding=kit.onboarding) == [orphan.id]
    assert document(kit.sidecar, orphan.id)["status"] == "ACTIVE"
    assert document(kit.sidecar, active.id)["status"] == "ACTIVE"
    assert await service.resume_unscheduled(onboarding=kit.onboarding) == []


async def test_state_store_down_at_start_up_does_not_stop_admin(kit: Kit) -> None:

    async def down(key: str, *, store: str | None = None) -> Any:
        raise DependencyUnavailable("Reading state failed.", code="STATE_UNAVAILABLE")

    kit.sidecar.get_state = down  # type: ignore[method-assign]
    assert await service.resume_unscheduled(onboarding=kit.onboarding) == []


async def test_the_sweep_schedules_a_tenant_left_without_a_run_once_it_has_been_quiet(kit: Kit) -> None:
    kit.workflows.hold = True
    left = await create(kit)  # recorded; pretend the request that recorded it could not schedule its run
    kit.workflows.states.clear()
    kit.workflows.hold = False
    quiet = timedelta(seconds=30)

    assert await service.resume_unscheduled(onboarding=kit.onboarding, quiet_for=quiet) == []  # its request may
    assert document(kit.sidecar, left.id)["status"] == "PROVISIONING"  # still be scheduling it: not yet
    backdate(kit, left.id, seconds=31)
    assert await service.resume_unscheduled(onboarding=kit.onboarding, quiet_for=quiet) == [left.id]
    assert document(kit.sidecar, left.id)["status"] == "ACTIVE"


async def test_an_engine_that_fails_one_tenant_does_not_stop_the_sweep_for_the_others(kit: Kit) -> None:
    kit.workflows.hold = True
    first, second = await create(kit), await create(kit)
    kit.workflows.states.clear()
    kit.workflows.hold = False
    kit.workflows.unavailable = {first.id}

    assert await service.resume_unscheduled(onboarding=kit.onboarding) == [second.id]
    assert (document(kit.sidecar, first.id)["status"], document(kit.sidecar, second.id)["status"]) == (
        "PROVISIONING",
        "ACTIVE",
    )


async def test_a_creation_waits_for_its_run_only_what_is_left_of_its_wait(kit: Kit) -> None:
    slow = kit.workflows.start

    async def slow_start(run: Run) -> None:
        await asyncio.sleep(0.3)
        await slow(run)

    kit.workflows.start = slow_start  # type: ignore[method-assign]
    await create(kit)
    [waited] = kit.workflows.waited
    assert waited <= kit.onboarding.wait_seconds - 0.3


def backdate(kit: Kit, tenant_id: str, *, seconds: float) -> None:
    """Move the tenant's last change `seconds` into the past, in the store."""
    item = kit.sidecar.state[("statestore", tenant_key(tenant_id))]
    stamp = datetime.fromisoformat(item.value["updatedAt"]) - timedelta(seconds=seconds)
    item.value["updatedAt"] = stamp.isoformat()
