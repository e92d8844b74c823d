"""Tenant databases and who may migrate them: the pure model, its command, result and errors."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from servicekit import DependencyUnavailable, Forbidden, OperationFailed, ValidationFailed

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
ALLOWED_DRIVERS = (SQLITE_DRIVER, POSTGRES_DRIVER)
CALLER_HEADER = "dapr-caller-app-id"


class InvalidDatabaseUrl(ValidationFailed):
    """Raised when a database URL cannot be parsed, has another scheme, or names no database (or no SQLite file)."""

    default_code = "INVALID_DATABASE_URL"


class DatabaseMissing(ValidationFailed):
    """Raised when the database does not exist; admin creates it before provisioning."""

    default_code = "DATABASE_MISSING"


class DatabaseUnreachable(DependencyUnavailable):
    """Raised when nobody answered at the database; migrations repeat safely, so the caller may retry."""

    default_code = "DATABASE_UNREACHABLE"


class MigrationFailed(OperationFailed):
    """Raised when a migration ran and failed (`details.reason`)."""

    default_code = "MIGRATION_FAILED"


class CallerNotAllowed(Forbidden):
    """Raised when the caller is not admin presenting the shared provisioner key."""

    default_code = "CALLER_NOT_ALLOWED"


@dataclass(frozen=True)
class InitDatabase:
    """Command: bring an existing tenant database to the latest school schema."""

    database_url: str


@dataclass(frozen=True)
class TenantDatabase:
    """A database URL that passed the checks; `sqlite_file` is set for SQLite only."""

    url: str
    driver: str
    sqlite_file: Path | None

    def redacted(self) -> str:
        """The URL without its password, fit for logs and messages."""
        return make_url(self.url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class DatabaseMigrated:
    """Result: the database is at `revision` and holds `tables` (as read back from it)."""

    revision: str | None
    tables: list[str]


def _invalid(message: str) -> InvalidDatabaseUrl:
    return InvalidDatabaseUrl.for_field("databaseUrl", message)


def parse_database_url(raw: str) -> TenantDatabase:
    """Accept only async SQLite files and async PostgreSQL databases."""
    try:
        url: URL = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        raise _invalid("The database URL cannot be parsed.") from exc
    if url.drivername not in ALLOWED_DRIVERS:
        raise _invalid(f"The database URL scheme must be one of: {', '.join(ALLOWED_DRIVERS)}.")
    database = url.database or ""
    if url.drivername == POSTGRES_DRIVER:
        if not database:
            raise _invalid("The database URL names no database.")
        return TenantDatabase(raw.strip(), url.drivername, None)
    # An in-memory database would vanish with the connection that migrated it.
    if database in ("", ":memory:") or database.startswith("file:"):
        raise _invalid("A SQLite database URL must name a file.")
    return TenantDatabase(raw.strip(), url.drivername, Path(database))


@dataclass(frozen=True)
class CallerPolicy:
    """Only admin, presenting the shared key, may call the provisioner: both checks must pass."""

    admin_app_id: str
    key: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("the provisioner key must not be empty")

    def check(self, caller: str | None, key: str | None) -> None:
        right_caller = hmac.compare_digest((caller or "").encode(), self.admin_app_id.encode())
        right_key = hmac.compare_digest((key or "").encode(), self.key.encode())
        if not (right_caller and right_key):
            raise CallerNotAllowed("Only the admin service may provision tenant databases.")
