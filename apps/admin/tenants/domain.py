"""Tenants (schools): the pure model, its commands, events and errors. No web, no sidecar.

The record the tenant API answers from; the provisioning workflow (service/workflow.py) moves it along:
PROVISIONING  RECORDED -> DATABASE_CREATED -> MIGRATED -> ADMIN_CREATED ─┬─> ACTIVE  (DONE)
                                                                        └─> FAILED  (any step)
FAILED, or PROVISIONING whose workflow has ended ──retry──> PROVISIONING RECORDED (attempt + 1)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from servicekit import Conflict, DependencyUnavailable, NotFound, OperationFailed, ValidationFailed
from servicekit.keys import derived_id

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NAME_MAX = 200
"""The longest school name (any script, printable characters only); email and password follow servicekit.accounts."""
RESERVED_SUBDOMAINS = frozenset(
    {"www", "api", "admin", "app", "mail", "ftp", "static", "assets", "status", "root", "junction"}
)
# A DNS label: 3-63 lower-case letters, digits and hyphens, no hyphen at either end.
_DNS_LABEL = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


class TenantStatus(StrEnum):
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


class ProvisioningStep(StrEnum):
    RECORDED = "RECORDED"
    DATABASE_CREATED = "DATABASE_CREATED"
    MIGRATED = "MIGRATED"
    ADMIN_CREATED = "ADMIN_CREATED"
    DONE = "DONE"


class InvalidSubdomain(ValidationFailed):
    """Raised when a new tenant's subdomain is reserved, or not a DNS label of 3 to 63 a-z, 0-9 or hyphens."""

    default_code = "INVALID_SUBDOMAIN"


class SubdomainTaken(Conflict):
    """Raised when a new tenant's subdomain is already another tenant's."""

    default_code = "SUBDOMAIN_TAKEN"


class TenantNotFound(NotFound):
    """Raised when no tenant has the id asked for."""

    default_code = "TENANT_NOT_FOUND"


class TenantNotRetryable(Conflict):
    """Raised when a retry reaches a tenant that is already active, or whose provisioning run is still going."""

    default_code = "TENANT_NOT_RETRYABLE"


class ProvisioningFailed(OperationFailed):
    """Raised when the tenant's provisioning ended FAILED within the request's wait (`details.reason`)."""

    default_code = "PROVISIONING_FAILED"


class ProvisioningSuperseded(Conflict):
    """Raised when another write changed the tenant between a step's write and its read-back."""

    default_code = "PROVISIONING_SUPERSEDED"


class ProvisionerBadAnswer(DependencyUnavailable):
    """Raised when the provisioner answered something admin cannot read."""

    default_code = "PROVISIONER_BAD_ANSWER"


class WorkflowUnavailable(DependencyUnavailable):
    """Raised when the sidecar's workflow engine failed a call about a tenant's provisioning run."""

    default_code = "WORKFLOW_UNAVAILABLE"


@dataclass(frozen=True)
class CreateTenant:
    """Command: open a school and give it a working database."""

    name: str
    subdomain: str
    admin_email: str
    admin_password: str
    requested_by: str
    idempotency_key: str | None = None
    """The caller's key: a repeat of the same creation names the same tenant."""

    @property
    def tenant_id(self) -> str:
        """A new id, or the one this creation's key stands for (the same key, the same tenant)."""
        if self.idempotency_key is None:
            return uuid.uuid4().hex
        return derived_id(f"tenant:{self.idempotency_key}")


@dataclass(frozen=True)
class RetryTenant:
    """Command: run the provisioning of a failed (or abandoned) tenant again."""

    tenant_id: str
    requested_by: str


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    subdomain: str
    admin_email: str
    admin_password_hash: str
    """Argon2id; kept so a retry can create the first admin again. Never leaves admin's state."""
    database_url: str
    requested_by: str
    created_at: datetime
    updated_at: datetime
    status: TenantStatus = TenantStatus.PROVISIONING
    step: ProvisioningStep = ProvisioningStep.RECORDED
    reason: str | None = None
    tables_created: tuple[str, ...] = ()
    attempts: int = 1


@dataclass(frozen=True)
class TenantProvisioned:
    """Event: a school's database is migrated and its first admin exists."""

    tenant: Tenant
    topic = "tenant.provisioned"

    def payload(self) -> dict[str, object]:
        t = self.tenant
        return {
            "tenantId": t.id,
            "subdomain": t.subdomain,
            "name": t.name,
            "tablesCreated": list(t.tables_created),
            "userId": t.requested_by,
        }


@dataclass(frozen=True)
class TenantProvisioningFailed:
    """Event: a school could not be set up; it can be retried."""

    tenant: Tenant
    topic = "tenant.provisioning_failed"

    def payload(self) -> dict[str, object]:
        t = self.tenant
        return {
            "tenantId": t.id,
            "subdomain": t.subdomain,
            "name": t.name,
            "reason": t.reason,
            "userId": t.requested_by,
        }


def valid_id(tenant_id: str) -> bool:
    return bool(_ID.fullmatch(tenant_id))


def valid_subdomain(raw: str) -> str:
    if not _DNS_LABEL.fullmatch(raw):
        message = (
            "The subdomain must have 3 to 63 lower-case letters, digits or hyphens, "
            "and must not start or end with a hyphen."
        )
        raise InvalidSubdomain.for_field("subdomain", message)
    if raw in RESERVED_SUBDOMAINS:
        message = f"The subdomain {raw} is reserved."
        raise InvalidSubdomain.for_field("subdomain", message)
    return raw


def new_tenant(
    command: CreateTenant,
    *,
    name: str,
    subdomain: str,
    admin_email: str,
    password_hash: str,
    database_url: str,
    now: datetime,
    tenant_id: str | None = None,
) -> Tenant:
    """Record an accepted request as a tenant about to be provisioned."""
    return Tenant(
        id=tenant_id or command.tenant_id,
        name=name,
        subdomain=subdomain,
        admin_email=admin_email,
        admin_password_hash=password_hash,
        database_url=database_url,
        requested_by=command.requested_by,
        created_at=now,
        updated_at=now,
    )


def advanced(tenant: Tenant, step: ProvisioningStep, *, now: datetime, tables: tuple[str, ...] | None = None) -> Tenant:
    """The tenant one step further along its provisioning."""
    return replace(
        tenant, step=step, updated_at=now, tables_created=tenant.tables_created if tables is None else tables
    )


def activated(tenant: Tenant, *, now: datetime) -> tuple[Tenant, TenantProvisioned]:
    active = replace(tenant, status=TenantStatus.ACTIVE, step=ProvisioningStep.DONE, reason=None, updated_at=now)
    return active, TenantProvisioned(active)


def failed(tenant: Tenant, reason: str, *, now: datetime) -> tuple[Tenant, TenantProvisioningFailed]:
    """Mark the tenant FAILED; the step stays where it stopped, so the record tells how far it got."""
    broken = replace(tenant, status=TenantStatus.FAILED, reason=reason, updated_at=now)
    return broken, TenantProvisioningFailed(broken)


def restarted(tenant: Tenant, requested_by: str, *, now: datetime) -> Tenant:
    """The tenant back at the first step for another attempt (a new workflow run), unless it is ACTIVE.

    Whether a PROVISIONING tenant's run is still going is the workflow engine's to say (`service`).
    """
    if tenant.status is TenantStatus.ACTIVE:
        raise TenantNotRetryable("The tenant is already active.", details={"status": tenant.status.value})
    return replace(
        tenant,
        status=TenantStatus.PROVISIONING,
        step=ProvisioningStep.RECORDED,
        reason=None,
        tables_created=(),
        requested_by=requested_by,
        updated_at=now,
        attempts=tenant.attempts + 1,
    )
