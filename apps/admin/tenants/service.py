"""Tenant use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

import logging

from apps.admin.tenants.databases import tenant_database_url
from apps.admin.tenants.domain import (
    INTERRUPTED,
    CreateTenant,
    RetryTenant,
    SubdomainTaken,
    Tenant,
    TenantNotFound,
    is_stale,
    new_tenant,
    restarted,
    valid_id,
)
from apps.admin.tenants.saga import Onboarding, abandon, provision
from apps.admin.tenants.storage import TenantStore, Versioned
from apps.admin.tenants.validation import NAME_MAX, valid_subdomain
from servicekit import JunctionError
from servicekit.accounts import check_password, clean_name, normalise_email
from servicekit.clock import utc_now
from servicekit.conflicts import retry_on_conflict
from servicekit.passwords import hash_password

log = logging.getLogger("apps.admin.tenants")


async def _refuse_taken(subdomain: str, tenants: TenantStore, *, ours: str) -> Versioned | None:
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


async def _existing(tenant_id: str, tenants: TenantStore) -> Versioned:
    found = await tenants.get(tenant_id) if valid_id(tenant_id) else None
    if found is None:
        raise TenantNotFound("No such tenant.", details={"tenantId": tenant_id})
    return found


async def create_tenant(command: CreateTenant, *, onboarding: Onboarding) -> Tenant:
    """Record the tenant and claim its subdomain, then provision it; ACTIVE, or ProvisioningFailed (424)."""
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
    return await provision(recorded, onboarding=onboarding) if created else recorded.tenant


async def retry_tenant(command: RetryTenant, *, onboarding: Onboarding) -> Tenant:
    """Provision a FAILED (or abandoned PROVISIONING) tenant again, from the first step."""

    async def restart() -> Versioned:
        current = await _existing(command.tenant_id, onboarding.tenants)
        again = restarted(current.tenant, command.requested_by, now=utc_now(), stale_seconds=onboarding.stale_seconds)
        return await onboarding.tenants.replace(current, again)

    return await provision(await retry_on_conflict(restart), onboarding=onboarding)


async def get_tenant(tenant_id: str, *, tenants: TenantStore) -> Tenant:
    return (await _existing(tenant_id, tenants)).tenant


async def list_tenants(*, limit: int, offset: int, tenants: TenantStore) -> tuple[list[Tenant], int]:
    """One page of tenants, newest first, and how many there are."""
    wanted, total = await tenants.page(limit=limit, offset=offset)
    return [found.tenant for found in await tenants.tenants(wanted)], total


async def recover_interrupted(*, older_than_seconds: float, onboarding: Onboarding) -> list[str]:
    """Fail every PROVISIONING tenant idle that long (its run died), so it can be retried; return their ids."""
    now = utc_now()
    recovered: list[str] = []
    try:
        every = await onboarding.tenants.tenants(await onboarding.tenants.ids())
    except JunctionError as exc:  # admin still starts; a stale tenant can be retried once the store is back
        log.warning("could not look for interrupted tenants: %s %s", exc.code, exc.message)
        return recovered
    for found in every:
        if not is_stale(found.tenant, now=now, stale_seconds=older_than_seconds):
            continue
        try:
            await abandon(found, INTERRUPTED, onboarding=onboarding)
        except JunctionError as exc:  # one tenant's trouble must not keep admin from starting; retry still works
            log.warning("could not recover tenant %s: %s %s", found.tenant.id, exc.code, exc.message)
            continue
        log.info("tenant %s (%s) was interrupted and is now FAILED", found.tenant.id, found.tenant.subdomain)
        recovered.append(found.tenant.id)
    return recovered
