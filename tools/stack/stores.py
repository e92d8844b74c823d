"""Read-only (and test-setup) looks into a run's stores, whatever the profile keeps them in.

Relational data goes through SQLAlchemy with the very DATABASE_URL / TENANT_DATABASE_URL_TEMPLATE the
harness gives each app, so the dialect decides; Dapr state is read from the table of the run's own
`statestore` component (state.sqlite files or state.postgresql v2), named in its rendered YAML, or
from the hashes of a state.redis store.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from tools.stack.stack import Stack

T = TypeVar("T")


def _in_own_loop(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work to completion from sync code, even when the caller is inside an event loop."""
    result: list[T] = []
    failure: list[BaseException] = []

    async def runner() -> None:
        result.append(await work())

    def target() -> None:
        try:
            asyncio.run(runner())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def with_connection(
    database_url: str, use: Callable[[AsyncConnection], Awaitable[T]], *, autocommit: bool = False
) -> T:
    """Open one connection to `database_url` (no pool), hand it to `use`, commit, close."""

    async def work() -> T:
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
        engine = create_async_engine(database_url, poolclass=NullPool, **options)
        try:
            async with engine.begin() as connection:
                return await use(connection)
        finally:
            await engine.dispose()

    return _in_own_loop(work)


def query(database_url: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows of one SELECT (named `:params`)."""

    async def use(connection: AsyncConnection) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in (await connection.execute(text(sql), params or {})).fetchall()]

    return with_connection(database_url, use)


def tables_in(database_url: str) -> set[str]:
    async def use(connection: AsyncConnection) -> set[str]:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))

    return with_connection(database_url, use)


def database_exists(database_url: str) -> bool:
    """Whether the database exists (a SQLite file, or a database on the PostgreSQL server)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return bool(url.database) and Path(str(url.database)).is_file()
    rows = query(
        str(url.set(database="postgres")), "SELECT 1 FROM pg_database WHERE datname = :name", {"name": url.database}
    )
    return bool(rows)


def tenant_databases(stack: Stack) -> set[str]:
    """The subdomains that have a tenant database (a file under the template's folder, or a database)."""
    template = stack.setting("admin", "TENANT_DATABASE_URL_TEMPLATE")
    url = make_url(template.format(subdomain="PROBE"))
    if url.get_backend_name() == "sqlite":
        folder, pattern = Path(str(url.database)).parent, Path(str(url.database)).name
        prefix, _, suffix = pattern.partition("PROBE")
        if not folder.is_dir():
            return set()
        return {p.name[len(prefix) : len(p.name) - len(suffix)] for p in folder.glob(pattern.replace("PROBE", "*"))}
    prefix, _, suffix = str(url.database).partition("PROBE")
    rows = query(str(url.set(database="postgres")), "SELECT datname FROM pg_database")
    names = [str(row[0]) for row in rows]
    return {n[len(prefix) : len(n) - len(suffix)] for n in names if n.startswith(prefix) and n.endswith(suffix)}


@dataclass(frozen=True)
class StateItem:
    key: str
    document: Any
    expires: datetime | None
    """When the store forgets it (naive UTC), if it has a TTL."""


def _statestore(stack: Stack) -> tuple[str, dict[str, str]]:
    path = stack.run_dir / "components" / stack.profile / "statestore.yaml"
    spec = yaml.safe_load(path.read_text())["spec"]
    return str(spec["type"]), {entry["name"]: str(entry.get("value", "")) for entry in spec.get("metadata") or []}


def _naive_utc(value: object) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _redis_rows(host: str, pattern: str) -> list[tuple[Any, Any, Any]]:
    """(key, JSON value, expiry) of the state.redis hashes matching a glob (the value is the `data` field)."""
    import coredis

    async def work() -> list[tuple[Any, Any, Any]]:
        address, _, port = host.rpartition(":")
        client: coredis.Redis[str] = coredis.Redis(host=address, port=int(port), decode_responses=True)
        rows = []
        try:
            async for key in client.scan_iter(match=pattern.replace("[", "\\[").replace("?", "\\?"), count=500):
                value, ttl_ms = await client.hget(key, "data"), await client.pttl(key)
                if value is not None:
                    now = datetime.now(UTC).replace(tzinfo=None)
                    expires = now + timedelta(milliseconds=ttl_ms) if ttl_ms > 0 else None
                    rows.append((key, value, expires))
        finally:
            client.connection_pool.disconnect()
        return rows

    return _in_own_loop(work)


def state_items(stack: Stack, app_id: str, marker: str) -> list[StateItem]:
    """The Dapr state entries of `app_id` whose key starts with `marker` (`applied:`, `product:`, ...)."""
    kind, metadata = _statestore(stack)
    like = {"pattern": f"{app_id}||{marker}%"}  # Dapr keys a state entry `<app-id>||<key>`
    if kind == "state.sqlite":
        path = Path(metadata["connectionString"].replace("{appID}", app_id).split("?", 1)[0])
        if not path.exists():
            return []
        sql = "SELECT key, value, is_binary, expiration_time FROM state WHERE key LIKE :pattern"
        rows = [
            (key, base64.b64decode(value) if binary else value, expires)
            for key, value, binary, expires in query(f"sqlite+aiosqlite:///{path}", sql, like)
        ]
    elif kind == "state.postgresql":
        url = make_url(metadata["connectionString"].split("?", 1)[0]).set(drivername="postgresql+asyncpg")
        table = metadata.get("tablePrefix", "") + "state"
        sql = f"SELECT key, value, expires_at FROM {table} WHERE key LIKE :pattern"  # noqa: S608 - our own YAML
        rows = [
            (key, bytes(value), expires)
            for key, value, expires in query(url.render_as_string(hide_password=False), sql, like)
        ]
    elif kind == "state.redis":
        rows = _redis_rows(metadata["redisHost"], f"{app_id}||{marker}*")
    else:
        raise NotImplementedError(f"no reader for a {kind} state store")
    return [StateItem(str(key), json.loads(value), _naive_utc(expires)) for key, value, expires in rows]


def state_documents(stack: Stack, app_id: str, marker: str) -> dict[str, dict[str, Any]]:
    """The JSON object documents whose key starts with `marker`, by the key's part after it."""
    return {
        item.key.split(marker, 1)[1]: item.document
        for item in state_items(stack, app_id, marker)
        if isinstance(item.document, dict)
    }
