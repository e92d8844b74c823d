"""identity's database: the users table, the outbox, and the unit of work that writes both at once."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apps.identity.domain import EmailTaken, Role, User
from servicekit.events import EventEnvelope
from servicekit.outbox import OutboxRelay, OutboxUnitOfWork, outbox_table

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("creation_key", String(128), nullable=True),
)
outbox = outbox_table(metadata, failures=True)
"""A row that can never be sent is stamped `failed_at` with its `error` (migration 0003), not sent."""


class UserRepository(Protocol):
    async def add(self, user: User) -> None: ...
    async def by_email(self, email: str) -> User | None: ...
    async def by_id(self, user_id: str) -> User | None: ...


class UnitOfWork(Protocol):
    """One transaction: the users and the events their change produced commit together or not at all."""

    users: UserRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def record(self, topic: str, event: EventEnvelope) -> None: ...
    async def commit(self) -> None: ...


def _to_user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(m["id"], m["email"], m["name"], Role(m["role"]), m["password_hash"], m["created_at"], m["creation_key"])


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def add(self, user: User) -> None:
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    users.insert().values(
                        id=user.id,
                        email=user.email,
                        name=user.name,
                        role=user.role.value,
                        password_hash=user.password_hash,
                        created_at=user.created_at,
                        creation_key=user.creation_key,
                    )
                )
        except IntegrityError as exc:  # a concurrent registration won the unique index
            raise EmailTaken("An account with this email already exists.") from exc

    async def by_email(self, email: str) -> User | None:
        row = (await self.connection.execute(select(users).where(users.c.email == email))).first()
        return None if row is None else _to_user(row)

    async def by_id(self, user_id: str) -> User | None:
        row = (await self.connection.execute(select(users).where(users.c.id == user_id))).first()
        return None if row is None else _to_user(row)


class SqlUnitOfWork(OutboxUnitOfWork):
    """identity's unit of work: users and the outbox in one transaction."""

    users: UserRepository

    def __init__(self, engine: AsyncEngine, relay: OutboxRelay | None = None) -> None:
        super().__init__(engine, outbox, relay)

    def open_repositories(self, connection: AsyncConnection) -> None:
        self.users = SqlUserRepository(connection)
