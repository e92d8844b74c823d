"""Tenant database URLs are checked before any I/O: unknown kinds, unsafe PostgreSQL names, URL templates.

The adapters themselves, on real SQLite files and a real PostgreSQL: tests/integration/admin/."""

from __future__ import annotations

import pytest

from apps.admin.tenants.storage.databases import (
    PostgresTenantDatabases,
    SqlTenantDatabases,
    check_url_template,
    maintenance_url,
    postgres_database_name,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:", "mysql+aiomysql://h/tenant_abc"]
)
async def test_urls_without_a_database_of_a_known_kind_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        await SqlTenantDatabases().create(url)


async def test_postgres_names_are_checked_before_they_reach_ddl() -> None:
    url = "postgresql+asyncpg://junction:s3cret@db.internal:5432/tenant_my-school"
    assert postgres_database_name(url) == "tenant_my-school"
    assert maintenance_url(url).render_as_string(hide_password=False) == (
        "postgresql+asyncpg://junction:s3cret@db.internal:5432/postgres"
    )
    for bad in ("postgres", "tenant_", 'tenant_x"; DROP DATABASE postgres; --', "tenant_ab\n", "other_school"):
        with pytest.raises(ValueError):
            postgres_database_name(f"postgresql+asyncpg://u@h/{bad}")
        with pytest.raises(ValueError):
            await PostgresTenantDatabases().remove(f"postgresql+asyncpg://u@h/{bad}")


@pytest.mark.parametrize(
    "template",
    [
        "sqlite+aiosqlite:///.data/tenants/{subdomain}.db",
        "sqlite+aiosqlite:////var/lib/junction/{subdomain}.db",
        "postgresql+asyncpg://junction:pw@127.0.0.1:5432/tenant_{subdomain}",
    ],
)
def test_good_templates(template: str) -> None:
    check_url_template(template)


@pytest.mark.parametrize(
    "template",
    [
        "sqlite+aiosqlite:///.data/tenants/school.db",
        "sqlite+aiosqlite:///{subdomain}/{tenant}.db",
        "sqlite:///.data/{subdomain}.db",
        "postgresql+asyncpg://h/{subdomain}",
        "postgresql+psycopg://h/tenant_{subdomain}",
        "not a url {subdomain}",
    ],
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(ValueError):
        check_url_template(template)
