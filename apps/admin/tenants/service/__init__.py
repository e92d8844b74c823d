"""Tenant use cases; every dependency arrives as a keyword argument.

Provisioning itself is a Dapr Workflow: `workflow` the orchestrator, `steps` its activities, `engine` the
SDK's runtime that hosts them and the client that schedules runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from apps.admin.tenants.domain import (
    NAME_MAX,
    CreateTenant,
    ProvisioningFailed,
    RetryTenant,
    SubdomainTaken,
    Tenant,
    TenantNotFound,
    TenantNotRetryable,
    TenantStatus,
    new_tenant,
    restarted,
    valid_id,
    valid_subdomain,
)
from apps.admin.tenants.service.engine import RunState, TenantWorkflows
from apps.admin.tenants.service.steps import Run
from apps.admin.tenants.storage import TenantRepository, Versioned
from apps.admin.tenants.storage.databases import tenant_database_url
from servicekit import JunctionError
from servicekit.accounts import check_password, clean_name, normalise_email
from servicekit.clock import utc_now
from servicekit.conflicts import retry_on_conflict
from servicekit.passwords import hash_password

log = logging.getLogger("apps.admin.tenants")


@dataclass(frozen=True)
class Onboarding:
    """What the tenant use cases need, built once in the composition root."""

    tenants: TenantRepository
    workflows: TenantWorkflows
    database_url_template: str
    wait_seconds: float
    """How long a request waits for its provisioning workflow before answering the tenant as it stands."""


def _run(tenant: Tenant) -> Run:
    return Run(tenant.id, tenant.attempts)


async def _provisioned(run: Run, *, onboarding: Onboarding, since: float) -> Tenant:
    """Wait for the run's workflow until `wait_seconds` after `since` (the request's start, monotonic);
    the tenant as it then stands, or ProvisioningFailed (424)."""
    left = onboarding.wait_seconds - (time.monotonic() - since)
    if left > 0:
        await onboarding.workflows.wait(run, timeout_seconds=left)
    tenant = (await _existing(run.tenant_id, onboarding.tenants)).tenant
    if tenant.status is TenantStatus.FAILED and tenant.attempts == run.attempt:
        raise ProvisioningFailed(
            f"The tenant could not be provisioned: {tenant.reason}",
            details={"tenantId": tenant.id, "reason": tenant.reason},
        )
    return tenant


async def _refuse_taken(subdomain: str, tenants: TenantRepository, *, ours: str) -> Versioned | None:
    """Refuse a taken subdomain; a repeat of the creation that took it (same key, so `ours`) gets its tenant."""
    # A FAILED tenant keeps its subdomain: it is retried, never created a second time.
    owner = await tenants.subdomain_owner(subdomain)
    if owner is not None and owner == ours:
        return await tenants.get(owner)
    if owner is not None:
        raise SubdomainTaken(
            "A tenant with this subdomain already exists.", details={"subdomain": subdomain, "tenantId": owner}
        )
    return None


async def _existing(tenant_id: str, tenants: TenantRepository) -> Versioned:
    found = await tenants.get(tenant_id) if valid_id(tenant_id) else None
    if found is None:
        raise TenantNotFound("No such tenant.", details={"tenantId": tenant_id})
    return found


async def create_tenant(command: CreateTenant, *, onboarding: Onboarding) -> Tenant:
    """Record the tenant and claim its subdomain, then provision it; ACTIVE, or ProvisioningFailed (424)."""
    since = time.monotonic()
    subdomain = valid_subdomain(command.subdomain)
    name = clean_name(command.name, longest=NAME_MAX, printable=True)
    email = normalise_email(command.admin_email, field="adminEmail")
    check_password(command.admin_password, field="adminPassword")
    tenant_id = command.tenant_id
    repeated = await _refuse_taken(subdomain, onboarding.tenants, ours=tenant_id)
    if repeated is not None:  # a sidecar's retry of this very creation: answer where it stands
        return repeated.tenant
    tenant = new_tenant(
        command,
        name=name,
        subdomain=subdomain,
        admin_email=email,
        password_hash=await hash_password(command.admin_password),
        database_url=tenant_database_url(onboarding.database_url_template, subdomain),
        now=utc_now(),
        tenant_id=tenant_id,
    )

    async def record() -> tuple[Versioned, bool]:
        # A clash on the subdomain claim comes back as ETAG_MISMATCH; the next attempt sees it taken.
        repeated = await _refuse_taken(subdomain, onboarding.tenants, ours=tenant_id)
        if repeated is not None:
            return repeated, False
        return await onboarding.tenants.add(tenant), True

    recorded, created = await retry_on_conflict(record)
    if not created:
        return recorded.tenant
    await onboarding.workflows.start(_run(recorded.tenant))
    return await _provisioned(_run(recorded.tenant), onboarding=onboarding, since=since)


async def retry_tenant(command: RetryTenant, *, onboarding: Onboarding) -> Tenant:
    """Provision a FAILED tenant again, from the first step, as a new workflow run.

    A PROVISIONING tenant is retried only when its run's workflow has ended or never started.
    """
    since = time.monotonic()

    async def restart() -> Versioned:
        current = await _existing(command.tenant_id, onboarding.tenants)
        provisioning = current.tenant.status is TenantStatus.PROVISIONING
        if provisioning and await onboarding.workflows.state(_run(current.tenant)) is RunState.RUNNING:
            raise TenantNotRetryable(
                "The tenant is being provisioned right now.", details={"status": current.tenant.status.value}
            )
        again = restarted(current.tenant, command.requested_by, now=utc_now())
        return await onboarding.tenants.replace(current, again)

    run = _run((await retry_on_conflict(restart)).tenant)
    await onboarding.workflows.start(run)
    return await _provisioned(run, onboarding=onboarding, since=since)


async def get_tenant(tenant_id: str, *, tenants: TenantRepository) -> Tenant:
    return (await _existing(tenant_id, tenants)).tenant


async def list_tenants(*, limit: int, offset: int, tenants: TenantRepository) -> tuple[list[Tenant], int]:
    """One page of tenants, newest first, and how many there are."""
    wanted, total = await tenants.page(limit=limit, offset=offset)
    return [found.tenant for found in await tenants.tenants(wanted)], total


async def resume_unscheduled(*, onboarding: Onboarding, quiet_for: timedelta = timedelta(0)) -> list[str]:
    """Schedule the workflow of every PROVISIONING tenant that has none; returns their ids.

    A tenant is recorded before its run is scheduled: admin may die between the two, or the engine may
    not answer the request in time (503 WORKFLOW_UNAVAILABLE). Admin runs this at start and then every
    `provisioning_sweep_seconds`; `quiet_for` leaves alone a tenant changed that recently, whose request
    may still be scheduling it. Runs that had started need nothing: the engine resumes them itself.
    """
    scheduled: list[str] = []
    try:
        recorded = await onboarding.tenants.tenants(await onboarding.tenants.ids())
    except JunctionError as exc:  # admin still starts; the next sweep looks again
        log.warning("could not look for unscheduled tenants: %s %s", exc.code, exc.message)
        return scheduled
    settled = utc_now() - quiet_for
    for found in recorded:
        tenant = found.tenant
        if tenant.status is not TenantStatus.PROVISIONING or tenant.updated_at > settled:
            continue
        run = _run(tenant)
        try:
            if await onboarding.workflows.state(run) is not RunState.MISSING:
                continue
            await onboarding.workflows.start(run)
        except JunctionError as exc:
            log.warning("could not schedule the workflow of tenant %s: %s %s", tenant.id, exc.code, exc.message)
            continue
        log.info("tenant %s (%s) had no workflow: scheduled", tenant.id, tenant.subdomain)
        scheduled.append(tenant.id)
    return scheduled
