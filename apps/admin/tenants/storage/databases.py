"""Creating and removing tenant databases: the port the provisioning workflow uses, and its adapters.

admin creates a tenant's empty database; the provisioner only migrates it. Both operations are
idempotent, so an activity the workflow engine runs twice, or a retry, can run them again whatever
the last run left behind. SQLite and PostgreSQL adapters below.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

SQLITE, POSTGRES = "sqlite+aiosqlite", "postgresql+asyncpg"
POSTGRES_DATABASE = "tenant_{subdomain}"
POSTGRES_NAME_LIMIT = 63  # bytes in an identifier (NAMEDATALEN - 1)
CREATED_MEANWHILE = ("42P04", "23505")  # SQLSTATEs duplicate_database and unique_violation
# Subdomains are validated DNS labels; checked again here because the name is spliced into DDL.
_SAFE_POSTGRES_NAME = re.compile(r"tenant_[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class TenantDatabases(Protocol):
    async def create(self, database_url: str) -> None:
        """Create the empty database unless it exists."""
        ...

    async def remove(self, database_url: str) -> None:
        """Remove the database if it exists."""
        ...


def tenant_database_url(template: str, subdomain: str) -> str:
    """The tenant's database URL; on PostgreSQL a name past its 63-byte identifier limit is shortened.

    A subdomain may be 63 characters, `tenant_` makes 70: PostgreSQL would refuse (or truncate) it, so
    a long name keeps its first characters and gets a hash of the whole subdomain, unique per tenant.
    """
    url = template.format(subdomain=subdomain)
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    name = parsed.database or ""
    if parsed.drivername != POSTGRES or len(name.encode()) <= POSTGRES_NAME_LIMIT:
        return url
    digest = hashlib.sha256(subdomain.encode()).hexdigest()[:8]
    short = f"{name[: POSTGRES_NAME_LIMIT - len(digest) - 1]}-{digest}"
    return parsed.set(database=short).render_as_string(hide_password=False)


def check_url_template(template: str) -> None:
    """Refuse a template that does not give each subdomain its own database of a supported kind."""
    if "{subdomain}" not in template:
        raise ValueError("the tenant database URL template must contain {subdomain}")
    try:
        url = make_url(tenant_database_url(template, "probe"))
    except (KeyError, IndexError, ValueError, ArgumentError) as exc:
        raise ValueError(f"the tenant database URL template is not a database URL: {exc}") from exc
    if url.drivername not in (SQLITE, POSTGRES):
        raise ValueError(f"tenant databases must be {SQLITE} or {POSTGRES}, not {url.drivername}")
    if url.drivername == SQLITE and not url.database:
        raise ValueError("a SQLite tenant database needs a file path")
    if url.drivername == POSTGRES and url.database != POSTGRES_DATABASE.format(subdomain="probe"):
        raise ValueError(f"a PostgreSQL tenant database must be named {POSTGRES_DATABASE}")


class SqliteTenantDatabases:
    """A SQLite database is a file: creating it is creating its folder and an empty file."""

    async def create(self, database_url: str) -> None:
        path = _sqlite_path(database_url)

        def touch() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)

        await asyncio.to_thread(touch)

    async def remove(self, database_url: str) -> None:
        path = _sqlite_path(database_url)

        def unlink() -> None:
            for suffix in _SQLITE_COMPANIONS:  # WAL mode leaves companion files beside the database
                path.with_name(path.name + suffix).unlink(missing_ok=True)

        await asyncio.to_thread(unlink)


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise ValueError("a SQLite tenant database needs a file path")
    return Path(database)


class PostgresTenantDatabases:
    """A PostgreSQL database is created and dropped from the same server's `postgres` database."""

    async def create(self, database_url: str) -> None:
        name = postgres_database_name(database_url)
        try:
            await self._execute(database_url, f'CREATE DATABASE "{name}"', unless_exists=name)
        except DBAPIError as exc:
            # Two runs of the step raced past the existence probe and the other one created it: the
            # loser sees duplicate_database, or a unique violation on pg_database's name index.
            if getattr(exc.orig, "sqlstate", None) not in CREATED_MEANWHILE:
                raise

    async def remove(self, database_url: str) -> None:
        name = postgres_database_name(database_url)
        # FORCE ends sessions a dead provisioning run may have left open (PostgreSQL 13+).
        await self._execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _execute(self, database_url: str, ddl: str, *, unless_exists: str | None = None) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block, hence AUTOCOMMIT.
        engine = create_async_engine(maintenance_url(database_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                if unless_exists is not None:
                    probe = text("SELECT 1 FROM pg_database WHERE datname = :name")
                    if (await connection.execute(probe, {"name": unless_exists})).first() is not None:
                        return
                await connection.execute(text(ddl))
        finally:
            await engine.dispose()


def postgres_database_name(database_url: str) -> str:
    name = make_url(database_url).database or ""
    if not _SAFE_POSTGRES_NAME.fullmatch(name):
        raise ValueError(f"refusing to create or drop a database named {name!r}")
    return name


def maintenance_url(database_url: str) -> URL:
    """The same server and credentials, connected to its `postgres` database."""
    return make_url(database_url).set(database="postgres")


class SqlTenantDatabases:
    """Picks the adapter by each URL's scheme, so tenants made under an earlier template stay removable."""

    def __init__(self) -> None:
        self._by_driver: dict[str, TenantDatabases] = {
            SQLITE: SqliteTenantDatabases(),
            POSTGRES: PostgresTenantDatabases(),
        }

    def _for(self, database_url: str) -> TenantDatabases:
        driver = make_url(database_url).drivername
        adapter = self._by_driver.get(driver)
        if adapter is None:
            raise ValueError(f"no tenant database adapter for {driver}")
        return adapter

    async def create(self, database_url: str) -> None:
        await self._for(database_url).create(database_url)

    async def remove(self, database_url: str) -> None:
        await self._for(database_url).remove(database_url)
