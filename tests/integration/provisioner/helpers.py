"""Shared pieces of provisioner's integration tests: admin's headers, tenant files, calls and their answers
(the app itself is conftest's `client`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

KEY = "unit-test-provisioner-key"
SCHOOL_TABLES = ["admin_users", "announcements", "attendance", "classes", "grades", "students", "teachers"]


def admin_headers() -> dict[str, str]:
    """What admin's call carries once Dapr has delivered it."""
    return {"dapr-caller-app-id": "admin", "x-provisioner-key": KEY}


def empty_sqlite(folder: Path, name: str = "tenant.db") -> tuple[Path, str]:
    """An existing, empty SQLite file (as admin creates it) and its async URL."""
    path = folder / name
    path.touch()
    return path, f"sqlite+aiosqlite:///{path}"


def tables_in(path: Path) -> list[str]:
    """Read the tables straight from the file, independently of the code under test."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return [name for (name,) in rows]


def init_database(api: TestClient, database_url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    # Starlette types TestClient against httpx2 (not installed), so to mypy its methods return Any.
    response: httpx.Response = api.post(
        "/init-database", json={"databaseUrl": database_url}, headers=admin_headers() if headers is None else headers
    )
    return response


def refusal(response: httpx.Response) -> dict[str, Any]:
    """provisioner is inside the mesh: an answer that is not its own failure travels as HTTP 200."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    return body
