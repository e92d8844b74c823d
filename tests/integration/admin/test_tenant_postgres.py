"""The PostgreSQL adapter against a real PostgreSQL 15 (tools/servers' kind): CREATE and DROP DATABASE per tenant."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from apps.admin.tenants.storage.databases import (
    POSTGRES_NAME_LIMIT,
    PostgresTenantDatabases,
    SqlTenantDatabases,
    tenant_database_url,
)
from apps.provisioner.storage import AlembicSchemaMigrator
from tools.servers.postgres import BIN, start_postgres
from tools.stack.processes import free_port
from tools.stack.stores import database_exists

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not (BIN / "postgres").exists(), reason="PostgreSQL 15 is not installed"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A throwaway cluster on a free port; yields the tenant URL template for it."""
    folder = Path(tempfile.mkdtemp(prefix="junction-pg-"))
    folder.chmod(0o755)  # the server's own user must reach its data folder below
    port = free_port()
    process = start_postgres(port, folder / "postgres", folder / "postgres.log")
    try:
        yield f"postgresql+asyncpg://junction@127.0.0.1:{port}/tenant_{{subdomain}}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def tenant(template: str) -> str:
    return template.format(subdomain=f"school-{uuid.uuid4().hex[:8]}")


async def test_create_makes_the_database_once_and_remove_drops_it(server: str) -> None:
    url = tenant(server)
    databases = PostgresTenantDatabases()
    await databases.create(url)
    await databases.create(url)  # a retried saga step finds it made
    assert database_exists(url)
    await databases.remove(url)
    await databases.remove(url)  # and a compensation that runs twice finds it gone
    assert not database_exists(url)


async def test_concurrent_creates_of_one_tenant_both_succeed(server: str) -> None:
    url = tenant(server)
    await asyncio.gather(*(PostgresTenantDatabases().create(url) for _ in range(4)))
    assert database_exists(url)


async def test_remove_ends_sessions_left_open_on_the_tenant_database(server: str) -> None:
    url = tenant(server)
    await PostgresTenantDatabases().create(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as session:  # a session held open on the database while it is removed
            await session.execute(text("SELECT 1"))
            await PostgresTenantDatabases().remove(url)
    except Exception:  # noqa: S110 - the forced drop ends this session under it
        pass
    finally:
        await engine.dispose()
    assert not database_exists(url)


async def test_the_school_migrations_run_on_a_created_tenant_database(server: str) -> None:
    url = tenant(server)
    await SqlTenantDatabases().create(url)
    migrator = AlembicSchemaMigrator()
    await migrator.upgrade(url)
    await migrator.upgrade(url)  # at head already: nothing to do
    migrated = await migrator.read_schema(url)
    assert migrated.revision is not None
    assert {"admin_users", "students", "teachers", "classes", "attendance", "grades"} <= set(migrated.tables)
    await SqlTenantDatabases().remove(url)


async def test_a_subdomain_of_63_characters_gets_a_database_within_the_identifier_limit(server: str) -> None:
    subdomain = "a" * 62 + "b"
    url = tenant_database_url(server, subdomain)
    other = tenant_database_url(server, "a" * 62 + "c")
    name = make_url(url).database or ""
    assert len(name) == POSTGRES_NAME_LIMIT and name.startswith("tenant_aaa") and url != other
    assert tenant_database_url(server, "short") == server.format(subdomain="short")
    await SqlTenantDatabases().create(url)
    assert database_exists(url) and not database_exists(other)
    await SqlTenantDatabases().remove(url)
    assert not database_exists(url)
