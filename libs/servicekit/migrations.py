"""Run an app's Alembic migrations programmatically, with an async engine underneath.

Instances of one app (replicas) start together on one database, and each migrates it at start-up:
they take turns. Two upgrades at once would both find no version and both create the first tables,
and one would fail ("table orders already exists"). On PostgreSQL a transaction-scoped advisory lock
serializes them; on SQLite, whose files only processes of one machine share, an exclusive lock on a
file beside the database. The second upgrade then finds the database at head and changes nothing.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATION_LOCK_KEY = 0x4A756E6374696F6E
"""The PostgreSQL advisory lock an upgrade holds ("Junction" in ASCII); advisory locks are per database."""


def ensure_sqlite_folder(database_url: str) -> None:
    """Create the folder of a SQLite file so a fresh checkout needs no manual step."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def _sqlite_turn(database_url: str) -> Iterator[None]:
    """Hold an exclusive lock on `<database>.migrations.lock` (no-op for other databases and in-memory SQLite).

    A lock of its own, not one on the database file: SQLite's POSIX locks on that file would be dropped
    when any other descriptor of it in this process closes.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    with Path(f"{url.database}.migrations.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
        yield


def upgrade_to_head(script_location: Path, database_url: str) -> None:
    """Apply every pending migration, one instance at a time (blocking: call it through asyncio.to_thread)."""
    ensure_sqlite_folder(database_url)
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    with _sqlite_turn(database_url):
        command.upgrade(config, "head")


def run_env(target_metadata: MetaData) -> None:
    """The body of an app's migrations/env.py: run migrations online over an async engine."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None

    def migrate(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":  # held until this transaction ends (SQLite: _sqlite_turn)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(run())
