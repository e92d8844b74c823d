"""Database URLs, the caller policy, failure reasons and the start-up secret: no database, no HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.provisioner.domain import (
    CallerNotAllowed,
    CallerPolicy,
    DatabaseMigrated,
    DatabaseMissing,
    DatabaseUnreachable,
    InitDatabase,
    InvalidDatabaseUrl,
    MigrationFailed,
    parse_database_url,
)
from apps.provisioner.main import read_caller_policy
from apps.provisioner.service import init_database, short_reason
from apps.provisioner.settings import ProvisionerSettings
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


def test_sqlite_url_names_its_file() -> None:
    database = parse_database_url(" sqlite+aiosqlite:///.data/tenants/school.db ")

    assert database.url == "sqlite+aiosqlite:///.data/tenants/school.db"
    assert database.sqlite_file == Path(".data/tenants/school.db")


def test_postgresql_url_has_no_file_and_hides_its_password() -> None:
    database = parse_database_url("postgresql+asyncpg://tenant:pw@db.internal:5432/tenant_school")

    assert database.sqlite_file is None
    assert "pw" not in database.redacted()
    assert database.redacted().endswith("@db.internal:5432/tenant_school")


@pytest.mark.parametrize("url", ["", "sqlite:///x.db", "postgres://h/db", "sqlite+aiosqlite:///file:x.db?uri=true"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidDatabaseUrl):
        parse_database_url(url)


def test_policy_needs_both_the_caller_and_the_key() -> None:
    policy = CallerPolicy(admin_app_id="admin", key="k" * 32)

    policy.check("admin", "k" * 32)
    for caller, key in [("admin", None), (None, "k" * 32), ("orders", "k" * 32), ("admin", "k" * 31)]:
        with pytest.raises(CallerNotAllowed):
            policy.check(caller, key)


def test_policy_refuses_an_empty_key_and_never_shows_it() -> None:
    with pytest.raises(ValueError, match="empty"):
        CallerPolicy(admin_app_id="admin", key="")
    assert "hidden-value" not in repr(CallerPolicy(admin_app_id="admin", key="hidden-value"))


class RecordingSidecar(FakeSidecar):
    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__(secrets)
        self.stores: list[str | None] = []

    async def get_secret(self, key: str, *, store: str | None = None) -> str:
        self.stores.append(store)
        return await super().get_secret(key, store=store)


async def test_start_up_reads_the_key_from_the_provisioning_secret_store() -> None:
    sidecar = RecordingSidecar({"provisioner-key": "shared"})
    settings = ProvisionerSettings(APP_ID="provisioner", admin_app_id="school-admin")

    policy = await read_caller_policy(sidecar, settings)

    assert sidecar.stores == ["provisioning-secrets"]
    policy.check("school-admin", "shared")
    with pytest.raises(CallerNotAllowed):
        policy.check("admin", "shared")


def test_short_reason_keeps_the_kind_and_first_line_only() -> None:
    reason = short_reason(RuntimeError("(sqlite3.DatabaseError) file is not a database\n[SQL: PRAGMA x]\n" + "y" * 500))

    assert reason == "RuntimeError: (sqlite3.DatabaseError) file is not a database"
    assert len(short_reason(RuntimeError("z" * 1000))) == 200


class _CatalogMissing(Exception):
    sqlstate = "3D000"  # what asyncpg's InvalidCatalogNameError carries


class BrokenMigrator:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def upgrade(self, database_url: str) -> None:
        raise self.error

    async def read_schema(self, database_url: str) -> DatabaseMigrated:
        raise AssertionError("not reached")


def _wrapped(inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as exc:
            raise OSError("connection failed") from exc
    except OSError as outer:
        return outer


async def test_a_postgresql_database_that_does_not_exist_is_database_missing() -> None:
    command = InitDatabase("postgresql+asyncpg://u:pw@127.0.0.1/tenant_gone")

    with pytest.raises(DatabaseMissing) as caught:
        await init_database(command, migrator=BrokenMigrator(_wrapped(_CatalogMissing("gone"))))

    assert "pw" not in caught.value.message


async def test_any_other_failure_is_migration_failed_with_a_reason() -> None:
    command = InitDatabase("postgresql+asyncpg://u:pw@127.0.0.1/tenant_school")

    with pytest.raises(MigrationFailed) as caught:
        await init_database(command, migrator=BrokenMigrator(_wrapped(ValueError("boom"))))

    assert caught.value.status == 424  # an outcome on record, not a 503 a sidecar would retry
    assert caught.value.details == {"reason": "OSError: connection failed"}


async def test_a_database_server_nobody_answers_for_is_a_503_the_caller_may_retry() -> None:
    command = InitDatabase("postgresql+asyncpg://u:pw@127.0.0.1/tenant_school")

    with pytest.raises(DatabaseUnreachable) as caught:
        await init_database(command, migrator=BrokenMigrator(_wrapped(ConnectionRefusedError("refused"))))

    assert caught.value.status == 503
    assert "pw" not in caught.value.message
