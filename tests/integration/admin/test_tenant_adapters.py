"""The real adapters on SQLite files: creating and removing tenant databases, inserting the first admin.

URLs refused before any I/O: tests/unit/admin/test_tenant_database_urls.py."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from apps.admin.tenants import service
from apps.admin.tenants.domain import ProvisioningFailed, TenantStatus
from apps.admin.tenants.peers import DaprSchemaProvisioner
from apps.admin.tenants.service import Onboarding
from apps.admin.tenants.service.steps import Steps
from apps.admin.tenants.storage import DaprStateTenantRepository
from apps.admin.tenants.storage.admins import SqlTenantAdmins
from apps.admin.tenants.storage.databases import SqliteTenantDatabases, SqlTenantDatabases
from servicekit import DependencyUnavailable
from servicekit.passwords import hash_password
from servicekit.state_outbox import StateOutbox
from tests.unit.admin.fakes import PROVISIONER_KEY, InlineWorkflows
from tests.unit.admin.helpers import command, document
from tests.unit.fakes import FakeSidecar

ADMIN_USERS = (
    "CREATE TABLE admin_users (id VARCHAR(36) PRIMARY KEY, email VARCHAR(320) NOT NULL UNIQUE,"
    " name VARCHAR(200), password_hash VARCHAR(255) NOT NULL, created_at DATETIME NOT NULL)"
)

pytestmark = pytest.mark.anyio


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_sqlite_database_is_a_new_folder_and_an_empty_file_created_once(tmp_path: Path) -> None:
    path = tmp_path / "tenants" / "nested" / "school.db"
    await SqliteTenantDatabases().create(sqlite_url(path))
    assert path.is_file() and path.stat().st_size == 0
    path.write_bytes(b"kept")
    await SqliteTenantDatabases().create(sqlite_url(path))  # exists: left as it is
    assert path.read_bytes() == b"kept"


async def test_removing_a_sqlite_database_removes_its_wal_files_and_tolerates_absence(tmp_path: Path) -> None:
    path = tmp_path / "school.db"
    url = sqlite_url(path)
    await SqliteTenantDatabases().create(url)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x)")
    (tmp_path / "school.db-wal").write_bytes(b"wal")
    (tmp_path / "school.db-shm").write_bytes(b"shm")
    (tmp_path / "other.db").write_bytes(b"not this one")

    await SqliteTenantDatabases().remove(url)
    assert sorted(await asyncio.to_thread(os.listdir, tmp_path)) == ["other.db"]
    await SqliteTenantDatabases().remove(url)  # already gone: nothing to do


async def test_relative_sqlite_urls_resolve_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "sqlite+aiosqlite:///.data/tenants/school.db"
    await SqlTenantDatabases().create(url)
    assert (tmp_path / ".data" / "tenants" / "school.db").is_file()
    await SqlTenantDatabases().remove(url)
    assert not (tmp_path / ".data" / "tenants" / "school.db").exists()


def make_admin_users(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(ADMIN_USERS)


def admin_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT id, email, name, password_hash, created_at FROM admin_users").fetchall()


async def test_first_admin_is_inserted_once_by_email(tmp_path: Path) -> None:
    path = tmp_path / "school.db"
    make_admin_users(path)
    password_hash = await hash_password("correct horse battery")
    admins = SqlTenantAdmins()

    assert await admins.ensure_admin(sqlite_url(path), email="p@school.example", password_hash=password_hash)
    again = await admins.ensure_admin(sqlite_url(path), email="p@school.example", password_hash="other")
    assert again is False
    [(row_id, email, name, stored_hash, created_at)] = admin_rows(path)
    assert (len(row_id), email, name, stored_hash) == (36, "p@school.example", "Administrator", password_hash)
    assert created_at.startswith("20")
    assert PasswordHasher().verify(stored_hash, "correct horse battery")


async def test_first_admin_needs_the_migrated_table(tmp_path: Path) -> None:
    path = tmp_path / "school.db"
    await SqliteTenantDatabases().create(sqlite_url(path))
    with pytest.raises(Exception, match="admin_users"):
        await SqlTenantAdmins().ensure_admin(sqlite_url(path), email="p@school.example", password_hash="h")


def real_sqlite_onboarding(tmp_path: Path, sidecar: FakeSidecar) -> Onboarding:
    tenants = DaprStateTenantRepository(sidecar, StateOutbox(sidecar))
    steps = Steps(
        tenants=tenants,
        databases=SqlTenantDatabases(),
        provisioner=DaprSchemaProvisioner(sidecar, app_id="provisioner", key=PROVISIONER_KEY),
        admins=SqlTenantAdmins(),
    )
    return Onboarding(
        tenants=tenants,
        workflows=InlineWorkflows(steps),
        database_url_template=sqlite_url(tmp_path / "tenants" / "{subdomain}.db"),
        wait_seconds=1,
    )


async def test_workflow_steps_on_real_sqlite_files(tmp_path: Path) -> None:
    """Only the provisioner is faked: it migrates the file admin created, as the real one would."""
    sidecar = FakeSidecar()

    async def provisioner(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        database = Path(json["databaseUrl"].removeprefix("sqlite+aiosqlite:///"))
        assert await asyncio.to_thread(database.is_file), "admin creates the database; the provisioner migrates it"
        make_admin_users(database)
        return {"success": True, "message": "migrated", "tablesCreated": ["admin_users"]}

    sidecar.apps["provisioner"] = provisioner
    onboarding = real_sqlite_onboarding(tmp_path, sidecar)
    tenant = await service.create_tenant(command(subdomain="real-school"), onboarding=onboarding)
    assert tenant.status is TenantStatus.ACTIVE
    [(_, email, _, password_hash, _)] = admin_rows(tmp_path / "tenants" / "real-school.db")
    assert email == "principal@school.example"
    assert PasswordHasher().verify(password_hash, "correct horse battery")

    async def down(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        raise DependencyUnavailable("The provisioner service is unavailable.", code="SERVICE_UNAVAILABLE")

    sidecar.apps["provisioner"] = down
    with pytest.raises(ProvisioningFailed) as caught:
        await service.create_tenant(command(subdomain="broken-school"), onboarding=onboarding)
    assert not (tmp_path / "tenants" / "broken-school.db").exists()
    assert (tmp_path / "tenants" / "real-school.db").is_file()
    assert document(sidecar, caught.value.details["tenantId"])["status"] == "FAILED"
