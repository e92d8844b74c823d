"""provisioner's use case; its dependencies arrive as keyword arguments."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from apps.provisioner.domain import (
    DatabaseMigrated,
    DatabaseMissing,
    DatabaseUnreachable,
    InitDatabase,
    MigrationFailed,
    TenantDatabase,
    parse_database_url,
)

log = logging.getLogger("apps.provisioner.service")
REASON_MAX = 200


class SchemaMigrator(Protocol):
    async def upgrade(self, database_url: str) -> None: ...
    async def read_schema(self, database_url: str) -> DatabaseMigrated: ...


async def init_database(command: InitDatabase, *, migrator: SchemaMigrator) -> DatabaseMigrated:
    """Migrate an existing tenant database to the latest school schema and report what it holds.

    Safe to repeat: Alembic applies only the revisions the database has not seen yet.
    """
    database = parse_database_url(command.database_url)
    if database.sqlite_file is not None and not await asyncio.to_thread(database.sqlite_file.is_file):
        # Connecting would create an empty file: creating databases is admin's job, not ours.
        raise _missing(database)
    try:
        await migrator.upgrade(database.url)
        migrated = await migrator.read_schema(database.url)
    except Exception as exc:
        if _database_does_not_exist(exc):
            raise _missing(database) from exc
        reason = short_reason(exc)
        if _database_unreachable(exc):  # nobody answered: a 503 the caller may retry (migrations repeat safely)
            log.warning("tenant database unreachable", extra={"fields": {"database": database.redacted()}})
            message = f"The tenant database is not reachable: {reason}"
            raise DatabaseUnreachable(message, details={"reason": reason}) from exc

        log.warning("migration failed", exc_info=exc, extra={"fields": {"database": database.redacted()}})
        raise MigrationFailed(f"The migration failed: {reason}", details={"reason": reason}) from exc
    log.info(
        "tenant database migrated",
        extra={"fields": {"database": database.redacted(), "revision": migrated.revision}},
    )
    return migrated


def short_reason(exc: BaseException) -> str:
    """The exception's kind and first line: SQLAlchemy appends the statement and a link on later lines."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return reason[:REASON_MAX]


def _missing(database: TenantDatabase) -> DatabaseMissing:
    message = f"The database {database.redacted()} does not exist; create it before provisioning."
    return DatabaseMissing.for_field("databaseUrl", message)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and the DBAPI errors SQLAlchemy wraps."""
    seen: dict[int, BaseException] = {}
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen[id(current)] = current
        orig = getattr(current, "orig", None)
        pending += [current.__cause__, current.__context__, orig if isinstance(orig, BaseException) else None]
    return list(seen.values())


def _database_unreachable(exc: BaseException) -> bool:
    """True when the database server could not be reached at all (refused, reset, timed out)."""
    return any(isinstance(cause, (ConnectionError, TimeoutError)) for cause in _causes(exc))


def _database_does_not_exist(exc: BaseException) -> bool:
    """True when PostgreSQL answered that the named database does not exist (SQLSTATE 3D000)."""
    return any(getattr(cause, "sqlstate", None) == "3D000" for cause in _causes(exc))
