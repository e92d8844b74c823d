"""POST /init-database through provisioner's real app: migrations, refusals and failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.provisioner.helpers import (
    SCHOOL_TABLES,
    admin_headers,
    empty_sqlite,
    init_database,
    refusal,
    tables_in,
)


def test_migrates_an_empty_database_to_exactly_the_seven_school_tables(tmp_path: Path, client: TestClient) -> None:
    path, url = empty_sqlite(tmp_path)

    response = init_database(client, url)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert set(body["data"]) == {"success", "message", "tablesCreated"}
    assert body["data"]["success"] is True
    assert body["data"]["tablesCreated"] == SCHOOL_TABLES
    assert "0002" in body["data"]["message"]
    assert tables_in(path) == sorted([*SCHOOL_TABLES, "alembic_version"])


def test_running_twice_is_safe_and_reports_the_same_tables(tmp_path: Path, client: TestClient) -> None:
    path, url = empty_sqlite(tmp_path)

    first = init_database(client, url).json()
    second = init_database(client, url).json()

    assert first["success"] is second["success"] is True
    assert second["data"] == first["data"]
    assert tables_in(path) == sorted([*SCHOOL_TABLES, "alembic_version"])


def test_tables_created_is_read_from_the_database(tmp_path: Path, client: TestClient) -> None:
    path, url = empty_sqlite(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY)")

    body = init_database(client, url).json()

    assert body["data"]["tablesCreated"] == sorted([*SCHOOL_TABLES, "legacy_notes"])


def test_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path, client: TestClient) -> None:
    missing = tmp_path / "nowhere" / "tenant.db"

    body = refusal(init_database(client, f"sqlite+aiosqlite:///{missing}"))

    assert (body["statusCode"], body["error"]["code"]) == (422, "DATABASE_MISSING")
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///tenant.db",
        "postgresql://u:p@127.0.0.1/tenant",
        "postgresql+psycopg://u:p@127.0.0.1/tenant",
        "mysql+aiomysql://u:p@127.0.0.1/tenant",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://u:p@127.0.0.1",
        "not a database url",
    ],
)
def test_other_schemes_and_unusable_urls_are_refused(url: str, client: TestClient) -> None:
    body = refusal(init_database(client, url))

    assert (body["statusCode"], body["error"]["code"]) == (422, "INVALID_DATABASE_URL")


def test_unknown_fields_are_refused(tmp_path: Path, client: TestClient) -> None:
    _, url = empty_sqlite(tmp_path)

    response = client.post(
        "/init-database",
        json={"databaseUrl": url, "dropEverything": True},
        headers=admin_headers(),
    )

    body = refusal(response)
    assert (body["statusCode"], body["error"]["code"]) == (422, "VALIDATION_FAILED")


def test_a_file_that_is_not_a_database_fails_the_migration_as_a_recorded_outcome_not_a_503(
    tmp_path: Path, client: TestClient
) -> None:
    path = tmp_path / "tenant.db"
    path.write_bytes(b"this is not a SQLite database, it only has its name" * 20)

    response = init_database(client, f"sqlite+aiosqlite:///{path}")

    body = refusal(response)  # 424 inside the mesh travels as a refusal: a sidecar never retries it
    assert body["statusCode"] == 424
    error = body["error"]
    assert error["code"] == "MIGRATION_FAILED"
    assert error["details"]["reason"]
    assert len(error["details"]["reason"]) <= 200


def test_unreachable_postgresql_fails_with_503_without_revealing_the_password(client: TestClient) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    response = init_database(client, "postgresql+asyncpg://tenant:s3cr3t-pw@127.0.0.1:1/tenant_school")

    body = refusal(response)  # provisioner answered: the database is what is down (200 inside the mesh)
    assert (body["statusCode"], body["error"]["code"]) == (503, "DATABASE_UNREACHABLE")
    assert "s3cr3t-pw" not in response.text
