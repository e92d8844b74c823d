"""The provisioning saga: each step saved as it completes, any failure compensated, a dead run recoverable.

Every step is idempotent (the database is created unless it exists, migrations skip what is applied,
the first admin is inserted unless their email exists), so a retry always starts from the first step.
A run owns its tenant through the ETag of its own last write: when someone else wrote since (a retry
of a run presumed dead, start-up recovery), the run stops and touches nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from apps.admin.tenants.admins import TenantAdmins
from apps.admin.tenants.databases import TenantDatabases
from apps.admin.tenants.domain import (
    ProvisioningFailed,
    ProvisioningStep,
    ProvisioningSuperseded,
    Tenant,
    activated,
    advanced,
    failed,
)
from apps.admin.tenants.provisioner import SchemaProvisioner
from apps.admin.tenants.storage import TenantEvent, TenantStore, Versioned
from servicekit import Conflict, JunctionError
from servicekit.clock import utc_now

REASON_MAX = 500

log = logging.getLogger("apps.admin.tenants")


@dataclass(frozen=True)
class Onboarding:
    """Everything tenant onboarding needs, built once in the composition root."""

    tenants: TenantStore
    databases: TenantDatabases
    schemas: SchemaProvisioner
    admins: TenantAdmins
    database_url_template: str
    stale_seconds: float
    """A PROVISIONING tenant idle this long may be retried."""


def describe(exc: BaseException) -> str:
    """A short, human-readable cause for a tenant's `reason`."""
    if isinstance(exc, JunctionError):
        text = f"{exc.message.rstrip('.')} ({exc.code})"
    else:
        text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return text[:REASON_MAX]


async def _write(
    onboarding: Onboarding, record: Versioned, tenant: Tenant, events: Sequence[TenantEvent] = ()
) -> Versioned:
    try:
        return await onboarding.tenants.replace(record, tenant, events)
    except Conflict as clash:
        if clash.code != "ETAG_MISMATCH":
            raise
        raise ProvisioningSuperseded(
            "Another run changed this tenant meanwhile.", details={"tenantId": tenant.id}
        ) from clash


async def _advance(
    onboarding: Onboarding, record: Versioned, step: ProvisioningStep, tables: tuple[str, ...] | None = None
) -> Versioned:
    return await _write(onboarding, record, advanced(record.tenant, step, now=utc_now(), tables=tables))


async def provision(record: Versioned, *, onboarding: Onboarding) -> Tenant:
    """Take a freshly (re)started tenant to ACTIVE, or to FAILED with its database removed (503)."""
    tenant = record.tenant
    doing = "creating the database"
    try:
        await onboarding.databases.create(tenant.database_url)
        record = await _advance(onboarding, record, ProvisioningStep.DATABASE_CREATED)
        doing = "running the migrations"
        tables = await onboarding.schemas.init_database(tenant.database_url)
        record = await _advance(onboarding, record, ProvisioningStep.MIGRATED, tables)
        doing = "creating the first administrator"
        await onboarding.admins.ensure_admin(
            tenant.database_url, email=tenant.admin_email, password_hash=tenant.admin_password_hash
        )
        record = await _advance(onboarding, record, ProvisioningStep.ADMIN_CREATED)
        doing = "activating the tenant"
        active, provisioned = activated(record.tenant, now=utc_now())
        await _write(onboarding, record, active, [provisioned])
        return active
    except ProvisioningSuperseded:
        raise
    except Exception as exc:
        reason = f"{doing} failed: {describe(exc)}"
        log.warning("provisioning of tenant %s (%s) failed: %s", tenant.id, tenant.subdomain, reason, exc_info=exc)
        broken = await abandon(record, reason, onboarding=onboarding)
        raise ProvisioningFailed(
            f"The tenant could not be provisioned: {broken.reason}",
            details={"tenantId": tenant.id, "reason": broken.reason},
        ) from exc


async def abandon(record: Versioned, reason: str, *, onboarding: Onboarding) -> Tenant:
    """Remove the half-made database, then mark the tenant FAILED and stage `tenant.provisioning_failed`."""
    latest = await onboarding.tenants.get(record.tenant.id)
    if latest is None or latest.etag != record.etag:  # not ours any more: its database is someone else's now
        raise ProvisioningSuperseded(
            "Another run changed this tenant meanwhile.", details={"tenantId": record.tenant.id}
        )
    try:
        await onboarding.databases.remove(record.tenant.database_url)
    except Exception as exc:  # the failure is still recorded; a retry reuses what is left (steps are idempotent)
        log.warning("could not remove the database of tenant %s", record.tenant.id, exc_info=exc)
        reason = f"{reason}; the database could not be removed: {describe(exc)}"
    broken, provisioning_failed = failed(record.tenant, reason[: REASON_MAX * 2], now=utc_now())
    await _write(onboarding, record, broken, [provisioning_failed])
    return broken
