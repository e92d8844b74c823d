"""The provisioning workflow's activities: one step each, plain async functions over the onboarding ports.

The Dapr Workflow engine runs an activity at least once: a crash after its work but before the engine
recorded its result runs it again. So every step is idempotent (the database is created unless it
exists, migrations skip what is applied, the first admin is inserted unless their email exists) and
writes the tenant record, the API's read model, only while the run still owns it: the tenant is
PROVISIONING under the run's own attempt. A step of a run that lost its tenant (a retry started a
newer attempt) does nothing and answers SUPERSEDED, so an old run can never remove a newer run's database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from apps.admin.tenants.domain import (
    ProvisioningStep,
    Tenant,
    TenantStatus,
    activated,
    advanced,
    failed,
)
from apps.admin.tenants.peers import SchemaProvisioner
from apps.admin.tenants.storage import TenantEvent, TenantRepository
from apps.admin.tenants.storage.admins import TenantAdmins
from apps.admin.tenants.storage.databases import TenantDatabases
from servicekit import JunctionError
from servicekit.clock import utc_now
from servicekit.conflicts import retry_on_conflict

REASON_MAX = 500
SUPERSEDED = "SUPERSEDED"
"""What a step answers when its run no longer owns the tenant."""
_ORDER = list(ProvisioningStep)

log = logging.getLogger("apps.admin.tenants")


@dataclass(frozen=True)
class Steps:
    """The ports the activities use, built once in the composition root."""

    tenants: TenantRepository
    databases: TenantDatabases
    provisioner: SchemaProvisioner
    admins: TenantAdmins


@dataclass(frozen=True)
class Run:
    """One provisioning attempt of one tenant: the workflow's input, and what each activity receives."""

    tenant_id: str
    attempt: int

    def as_input(self) -> dict[str, object]:
        return {"tenantId": self.tenant_id, "attempt": self.attempt}

    @classmethod
    def of(cls, data: object) -> Run:
        if not isinstance(data, dict):
            raise TypeError(f"a provisioning run is an object, not {type(data).__name__}")
        return cls(str(data["tenantId"]), int(data["attempt"]))


def describe(exc: BaseException) -> str:
    """A short, human-readable cause for a tenant's `reason`."""
    if isinstance(exc, JunctionError):
        text = f"{exc.message.rstrip('.')} ({exc.code})"
    else:
        text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return text[:REASON_MAX]


def _owns(run: Run, tenant: Tenant) -> bool:
    return tenant.attempts == run.attempt and tenant.status is TenantStatus.PROVISIONING


async def _current(steps: Steps, run: Run) -> Tenant | None:
    """The tenant while this run owns it, else None."""
    found = await steps.tenants.get(run.tenant_id)
    return found.tenant if found is not None and _owns(run, found.tenant) else None


async def _advance(steps: Steps, run: Run, step: ProvisioningStep, tables: tuple[str, ...] | None = None) -> str:
    """Record that `step` is done (once: a repeated activity finds it there); SUPERSEDED if not ours."""

    async def write() -> str:
        found = await steps.tenants.get(run.tenant_id)
        if found is None or not _owns(run, found.tenant):
            return SUPERSEDED
        if _ORDER.index(found.tenant.step) >= _ORDER.index(step):
            return step.value
        await steps.tenants.replace(found, advanced(found.tenant, step, now=utc_now(), tables=tables))
        return step.value

    return await retry_on_conflict(write)


async def create_database(steps: Steps, run: Run) -> str:
    """Create the tenant's empty database unless it exists."""
    tenant = await _current(steps, run)
    if tenant is None:
        return SUPERSEDED
    await steps.databases.create(tenant.database_url)
    return await _advance(steps, run, ProvisioningStep.DATABASE_CREATED)


async def run_migrations(steps: Steps, run: Run) -> str:
    """Have the provisioner bring the database's school schema up to date; keep the tables it names."""
    tenant = await _current(steps, run)
    if tenant is None:
        return SUPERSEDED
    tables = await steps.provisioner.init_database(tenant.database_url)
    return await _advance(steps, run, ProvisioningStep.MIGRATED, tables)


async def create_first_admin(steps: Steps, run: Run) -> str:
    """Insert the school's first administrator unless their email is there."""
    tenant = await _current(steps, run)
    if tenant is None:
        return SUPERSEDED
    await steps.admins.ensure_admin(
        tenant.database_url, email=tenant.admin_email, password_hash=tenant.admin_password_hash
    )
    return await _advance(steps, run, ProvisioningStep.ADMIN_CREATED)


async def _finish(steps: Steps, run: Run, finished: Tenant, events: Sequence[TenantEvent]) -> None:
    async def write() -> None:
        found = await steps.tenants.get(run.tenant_id)
        if found is not None and _owns(run, found.tenant):
            await steps.tenants.replace(found, finished, events)

    await retry_on_conflict(write)


async def activate(steps: Steps, run: Run) -> str:
    """Mark the tenant ACTIVE and stage `tenant.provisioned` in one write; ACTIVE again if already done."""
    found = await steps.tenants.get(run.tenant_id)
    if found is None or found.tenant.attempts != run.attempt:
        return SUPERSEDED
    if found.tenant.status is TenantStatus.ACTIVE:
        return TenantStatus.ACTIVE.value
    active, provisioned = activated(found.tenant, now=utc_now())
    await _finish(steps, run, active, [provisioned])
    return await _outcome(steps, run)


async def compensate(steps: Steps, run: Run, reason: str) -> str:
    """Remove the half-made database, then mark the tenant FAILED and stage `tenant.provisioning_failed`.

    Answers the tenant's final status: FAILED, ACTIVE if the run had in fact finished (nothing is
    removed then), or SUPERSEDED when a newer attempt owns the tenant and its database.
    """
    found = await steps.tenants.get(run.tenant_id)
    if found is None or found.tenant.attempts != run.attempt:
        return SUPERSEDED
    if found.tenant.status is not TenantStatus.PROVISIONING:  # compensated before, or it did become ACTIVE
        return found.tenant.status.value
    try:
        await steps.databases.remove(found.tenant.database_url)
    except Exception as exc:  # the failure is still recorded; a retry reuses what is left (steps are idempotent)
        log.warning("could not remove the database of tenant %s", run.tenant_id, exc_info=exc)
        reason = f"{reason}; the database could not be removed: {describe(exc)}"
    broken, provisioning_failed = failed(found.tenant, reason[: REASON_MAX * 2], now=utc_now())
    await _finish(steps, run, broken, [provisioning_failed])
    log.warning("provisioning of tenant %s failed: %s", run.tenant_id, reason)
    return await _outcome(steps, run)


async def _outcome(steps: Steps, run: Run) -> str:
    found = await steps.tenants.get(run.tenant_id)
    if found is None or found.tenant.attempts != run.attempt:
        return SUPERSEDED
    return found.tenant.status.value


class StepFailed(Exception):
    """An activity's failure; its message is the cause the tenant's `reason` will show."""


ACTIVITIES: Mapping[str, Callable[[Steps, Run, Mapping[str, object]], Awaitable[str]]] = {
    "create_database": lambda on, run, _: create_database(on, run),
    "run_migrations": lambda on, run, _: run_migrations(on, run),
    "create_first_admin": lambda on, run, _: create_first_admin(on, run),
    "activate": lambda on, run, _: activate(on, run),
    "compensate": lambda on, run, data: compensate(on, run, str(data["reason"])),
}
"""Every activity by the name the workflow calls it, taking the activity's input as it arrived."""


async def perform(name: str, on: Steps, data: object) -> str:
    """Run the activity `name` on its input; any failure comes out as StepFailed with a readable cause."""
    try:
        run = Run.of(data)
        return await ACTIVITIES[name](on, run, data if isinstance(data, dict) else {})
    except Exception as exc:
        raise StepFailed(describe(exc)) from exc
