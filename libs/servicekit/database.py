"""Async SQLAlchemy engines that keep their transactional promises on SQLite too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit.errors import DependencyUnavailable, ValidationFailed

POOL_TIMEOUT_SECONDS = 5.0
"""How long a request waits for one of the pool's connections to a database server before a 503."""

DATABASE_DOWN: tuple[type[Exception], ...] = (exc.TimeoutError, exc.OperationalError, exc.InterfaceError)
"""What SQLAlchemy raises when the database cannot serve a statement now (pool exhausted, server gone,
connection lost, SQLite busy past its timeout): the envelope answers them as DatabaseUnavailable."""


class DatabaseUnavailable(DependencyUnavailable):
    """Raised when the app's own database did not serve the request in time; nothing of it was committed."""

    default_code = "DATABASE_UNAVAILABLE"


class NulInText(ValidationFailed):
    """Raised when a value bound for a PostgreSQL statement holds a NUL character, which its text types cannot store."""

    default_code = "NUL_IN_TEXT"


def refuse_nul(parameters: Any) -> None:
    """Raise NulInText if any string among the statement's parameters (one row or many) holds a NUL."""
    rows = parameters if isinstance(parameters, list | tuple) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if isinstance(row, list | tuple) else [row]
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise NulInText("Text may not contain the NUL character.")


def create_engine(database_url: str) -> AsyncEngine:
    """Create the app's engine; on SQLite, make transactions real and writers wait for each other.

    Python's sqlite3 driver starts no transaction before a SAVEPOINT, so a nested block would commit
    on its own (SQLAlchemy's documented recipe fixes that: the driver stays out of the way and every
    transaction begins explicitly). BEGIN IMMEDIATE takes the write lock up front, so two units that
    read then write queue behind the busy timeout instead of failing with "database is locked".
    """
    server = make_url(database_url).get_backend_name() != "sqlite"
    # On a database server a request waits a bounded time for a pooled connection, then is answered 503, and a
    # pooled connection the server dropped is found by a ping at checkout. A SQLite file has no connection to
    # lose: a ping there would only add a statement (a round trip through aiosqlite's thread) to every unit.
    pooling: dict[str, Any] = {"pool_timeout": POOL_TIMEOUT_SECONDS, "pool_pre_ping": True} if server else {}
    engine = create_async_engine(database_url, **pooling)
    if make_url(database_url).get_backend_name() == "postgresql":
        # PostgreSQL's driver fails such a statement with a DataError (a 500); it is the caller's bad input.
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _no_nul(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
            refuse_nul(parameters)

    if make_url(database_url).get_backend_name() != "sqlite":
        return engine

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
