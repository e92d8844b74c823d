"""A tenant's fields and its state machine, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.admin.tenants.domain import (
    RESERVED_SUBDOMAINS,
    CreateTenant,
    ProvisioningStep,
    Tenant,
    TenantNotRetryable,
    TenantStatus,
    activated,
    advanced,
    failed,
    new_tenant,
    restarted,
    valid_subdomain,
)
from servicekit import ValidationFailed
from tests.unit.admin.helpers import THAI_NAME

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize("subdomain", ["abc", "school-1", "a1b", "123", "x" * 63, "a-b-c", "xn--7ca"])
def test_dns_labels_are_accepted(subdomain: str) -> None:
    assert valid_subdomain(subdomain) == subdomain


@pytest.mark.parametrize(
    "subdomain",
    ["", "ab", "x" * 64, "-abc", "abc-", "Abc", "SCHOOL", "a_b", "a.b", "a b", " abc", "abc\n", "école", "โรงเรียน"],
)
def test_anything_but_a_lower_case_dns_label_is_refused(subdomain: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        valid_subdomain(subdomain)
    assert (caught.value.status, caught.value.code) == (422, "INVALID_SUBDOMAIN")
    assert caught.value.details[0]["field"] == "subdomain"


@pytest.mark.parametrize("subdomain", sorted(RESERVED_SUBDOMAINS))
def test_reserved_subdomains_are_refused(subdomain: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        valid_subdomain(subdomain)
    assert caught.value.code == "INVALID_SUBDOMAIN"
    assert "reserved" in caught.value.message


def test_reserved_list_is_the_contracts() -> None:
    assert {"www", "api", "admin", "app", "mail", "ftp", "static", "assets", "status", "root", "junction"} == set(
        RESERVED_SUBDOMAINS
    )


def fresh() -> Tenant:
    command = CreateTenant(THAI_NAME, "school", "a@b.example", "password1", "admin-1")
    return new_tenant(
        command,
        name=THAI_NAME,
        subdomain="school",
        admin_email="a@b.example",
        password_hash="hash",
        database_url="sqlite+aiosqlite:///t/school.db",
        now=NOW,
    )


def test_a_new_tenant_is_recorded_provisioning_at_its_first_attempt() -> None:
    tenant = fresh()
    assert (tenant.status, tenant.step, tenant.attempts, tenant.reason) == (
        TenantStatus.PROVISIONING,
        ProvisioningStep.RECORDED,
        1,
        None,
    )
    assert (tenant.created_at, tenant.updated_at, tenant.requested_by) == (NOW, NOW, "admin-1")

    migrated = advanced(tenant, ProvisioningStep.MIGRATED, now=NOW, tables=("a", "b"))
    active, event = activated(migrated, now=NOW)
    assert (active.status, active.step, active.tables_created) == (
        TenantStatus.ACTIVE,
        ProvisioningStep.DONE,
        ("a", "b"),
    )
    assert (event.topic, event.payload()) == (
        "tenant.provisioned",
        {
            "tenantId": tenant.id,
            "subdomain": "school",
            "name": THAI_NAME,
            "tablesCreated": ["a", "b"],
            "userId": "admin-1",
        },
    )

    broken, failure = failed(migrated, "it broke", now=NOW)
    assert (broken.status, broken.step, broken.reason) == (TenantStatus.FAILED, ProvisioningStep.MIGRATED, "it broke")
    assert (failure.topic, failure.payload()) == (
        "tenant.provisioning_failed",
        {"tenantId": tenant.id, "subdomain": "school", "name": THAI_NAME, "reason": "it broke", "userId": "admin-1"},
    )


def test_retry_rules() -> None:
    tenant = advanced(fresh(), ProvisioningStep.MIGRATED, now=NOW, tables=("a",))
    later = NOW + timedelta(seconds=30)

    # A PROVISIONING tenant whose workflow ended (the use case asks the engine) starts over.
    stale = restarted(tenant, "admin-2", now=later)
    assert (stale.status, stale.step, stale.attempts, stale.requested_by) == (
        TenantStatus.PROVISIONING,
        ProvisioningStep.RECORDED,
        2,
        "admin-2",
    )

    broken, _ = failed(tenant, "it broke", now=NOW)
    again = restarted(broken, "admin-2", now=later)
    assert (again.status, again.reason, again.tables_created, again.attempts, again.updated_at) == (
        TenantStatus.PROVISIONING,
        None,
        (),
        2,
        later,
    )

    active, _ = activated(tenant, now=NOW)
    with pytest.raises(TenantNotRetryable) as caught:
        restarted(active, "admin-2", now=later + timedelta(days=1))
    assert (caught.value.status, caught.value.code) == (409, "TENANT_NOT_RETRYABLE")
