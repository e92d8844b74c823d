"""Alembic behind an async-friendly adapter: migrate a tenant database, then read back what it holds.

The schema it migrates to, as SQLAlchemy metadata, is `school`.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from apps.provisioner.domain import DatabaseMigrated
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(__file__).parents[1] / "migrations"
VERSION_TABLE = "alembic_version"

# Alembic installs its `context` proxy process-wide while env.py runs, so two upgrades in two
# threads would configure each other's migrations: upgrades in one process run one at a time.
_alembic = threading.Lock()


def _upgrade(script_location: Path, database_url: str) -> None:
    with _alembic:
        upgrade_to_head(script_location, database_url)


def _read_schema(connection: Connection) -> DatabaseMigrated:
    names = inspect(connection).get_table_names()
    revision = MigrationContext.configure(connection).get_current_revision()
    return DatabaseMigrated(revision, sorted(name for name in names if name != VERSION_TABLE))


class AlembicSchemaMigrator:
    """Runs the school migrations (apps/provisioner/migrations) against any accepted database URL."""

    def __init__(self, script_location: Path = MIGRATIONS) -> None:
        self.script_location = script_location

    async def upgrade(self, database_url: str) -> None:
        """Apply every pending revision; Alembic blocks, so it runs in a worker thread."""
        await asyncio.to_thread(_upgrade, self.script_location, database_url)

    async def read_schema(self, database_url: str) -> DatabaseMigrated:
        """Read the revision and the tables from the database itself."""
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_read_schema)
        finally:
            await engine.dispose()
