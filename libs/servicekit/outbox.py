"""Transactional outbox: events are rows written with the change, then relayed to the broker.

A row is written in the same database transaction as the state change that caused it, so a
crash between commit and publish loses nothing; the relay publishes unsent rows (at least once,
consumers drop duplicates by event id) and stamps them sent. A row that can never be sent is set
aside (see servicekit.relay) and stamped failed with its error, so the rows behind it go on. On its
interval pass the relay forgets, in bounded batches, rows sent or set aside longer ago than
OUTBOX_KEEP_SENT_SECONDS, and the rows of any other `Retention` it was given (e.g. applied event ids).
Its backlog (servicekit.metrics) comes from the rows each pass reads; only a pass that stalls on a full
batch counts the rest, so a scrape never queries the database.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from pydantic import ValidationError
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement

from servicekit.consumer import DEAD_LETTER_TOPIC
from servicekit.events import EventEnvelope
from servicekit.horizons import OUTBOX_KEEP_SENT_SECONDS
from servicekit.relay import Relay
from servicekit.sidecar import SidecarClient


def outbox_table(metadata: MetaData, *, failures: bool = False) -> Table:
    """Declare the outbox table in an app's metadata (its migrations create it).

    With `failures`, a row set aside is stamped `failed_at` with its `error` (a migration adds them);
    without, it is stamped sent, and its error is only in the dead letter.
    """
    columns: list[Column[Any]] = [
        Column("event_id", String(64), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    ]
    if failures:
        columns += [Column("failed_at", DateTime(timezone=True), nullable=True), Column("error", Text, nullable=True)]
    return Table("outbox", metadata, *columns)


@dataclass(frozen=True)
class Retention:
    """Rows of `table` whose timestamp `at` is older than `keep_seconds` are forgotten."""

    table: Table
    at: ColumnElement[datetime]
    keep_seconds: float


async def record_event(connection: AsyncConnection, table: Table, topic: str, event: EventEnvelope) -> None:
    """Add an event to the outbox inside the caller's transaction."""
    await connection.execute(
        table.insert().values(
            event_id=event.event_id,
            topic=topic,
            body=event.model_dump_json(by_alias=True),
            created_at=datetime.now(UTC),
        )
    )


class OutboxUnitOfWork:
    """One transaction on an app's database; the events it records commit with it, then get relayed.

    Apps subclass it and open their repositories on the connection in `open_repositories`.
    """

    def __init__(self, engine: AsyncEngine, table: Table, relay: OutboxRelay | None = None) -> None:
        self.engine = engine
        self.table = table
        self.relay = relay
        self._wrote_events = False

    def open_repositories(self, connection: AsyncConnection) -> None:
        """Create the repositories of this unit of work on its connection."""

    async def __aenter__(self) -> Self:
        self.connection = await self.engine.connect()
        await self.connection.begin()
        self.open_repositories(self.connection)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.connection.in_transaction():
            await self.connection.rollback()  # nothing is half-written: no commit, no change
        await self.connection.close()

    async def record(self, topic: str, event: EventEnvelope) -> None:
        await record_event(self.connection, self.table, topic, event)
        self._wrote_events = True

    async def commit(self) -> None:
        await self.connection.commit()
        if self._wrote_events and self.relay is not None:
            self.relay.kick()


class OutboxRelay(Relay):
    """Publish unsent outbox rows; woken after each commit and on an interval as a safety net."""

    outbox = "sql"

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        table: Table,
        sidecar: SidecarClient,
        interval_seconds: float = 2.0,
        batch: int = 100,
        dead_letter_topic: str = DEAD_LETTER_TOPIC,
        keep_sent_seconds: float = OUTBOX_KEEP_SENT_SECONDS,
        retentions: Sequence[Retention] = (),
        prune_batch: int = 500,
    ) -> None:
        super().__init__(
            sidecar=sidecar, interval_seconds=interval_seconds, name="outbox relay", dead_letter_topic=dead_letter_topic
        )
        self.engine = engine
        self.table = table
        self.batch = batch
        self.prune_batch = prune_batch
        self._failures = "failed_at" in table.c
        done: ColumnElement[datetime] = (
            func.coalesce(table.c.published_at, table.c.failed_at) if self._failures else table.c.published_at
        )
        self.retentions = [Retention(table, done, keep_sent_seconds), *retentions]

    def _unsent(self) -> ColumnElement[bool]:
        unsent = self.table.c.published_at.is_(None)
        return unsent & self.table.c.failed_at.is_(None) if self._failures else unsent

    async def publish_pending(self) -> int:
        """Publish up to one batch of unsent events in creation order; return how many rows it settled."""
        table = self.table
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(table.c.event_id, table.c.topic, table.c.body, table.c.created_at)
                    .where(self._unsent())
                    .order_by(table.c.created_at)
                    .limit(self.batch)
                )
            ).all()
        sent: list[str] = []
        set_aside = 0
        try:
            for event_id, topic, body, _ in rows:
                error = await self._publish_row(topic, body)
                if error is None:
                    sent.append(event_id)
                    continue
                data = _readable(body)
                await self.set_aside(topic, event_id, data, error)
                await self._mark_failed(event_id, error)
                set_aside += 1
        finally:
            if sent:  # one write for the batch: fewer transactions competing with the app's own
                async with self.engine.begin() as connection:
                    await connection.execute(
                        update(table).where(table.c.event_id.in_(sent)).values(published_at=datetime.now(UTC))
                    )
            left = rows[len(sent) + set_aside :]
            await self._note_backlog(len(left), left[0].created_at if left else None, full=len(rows) == self.batch)
        return len(sent) + set_aside

    async def _note_backlog(self, left: int, oldest: datetime | None, *, full: bool) -> None:
        """Record what a batch left unsent and its oldest row; a full batch may have more behind it."""
        if not left:
            if not full:  # a full batch that went out is followed by another, which records
                self.backlog.record(0, None)
            return
        if full:  # stalled with more behind it: count them, at most once a pass, only while stalled
            with contextlib.suppress(Exception):  # for metrics only: a failure keeps the lower bound
                async with self.engine.connect() as connection:
                    counted = select(func.count()).select_from(self.table).where(self._unsent())
                    left = int((await connection.execute(counted)).scalar_one())
        self.backlog.record(left, oldest)

    async def _publish_row(self, topic: str, body: str) -> str | None:
        """Publish one row; None when sent, the reason when it can never be (transient errors propagate)."""
        try:
            event = EventEnvelope.model_validate_json(body)
        except ValidationError as exc:
            return f"UNREADABLE_BODY: not an event envelope ({exc.error_count()} problems)"
        return await self.refusal_of(topic, event)

    async def _mark_failed(self, event_id: str, error: str) -> None:
        now = datetime.now(UTC)
        values = {"failed_at": now, "error": error} if self._failures else {"published_at": now}
        async with self.engine.begin() as connection:
            await connection.execute(update(self.table).where(self.table.c.event_id == event_id).values(**values))

    async def prune(self, *, now: datetime | None = None) -> int:
        """Forget one bounded batch of every retention's expired rows; return how many went."""
        now = now or datetime.now(UTC)
        forgotten = 0
        for retention in self.retentions:
            key = next(iter(retention.table.primary_key.columns))
            cutoff = now - timedelta(seconds=retention.keep_seconds)
            expired = select(key).where(retention.at < cutoff).limit(self.prune_batch)
            async with self.engine.begin() as connection:
                result = await connection.execute(delete(retention.table).where(key.in_(expired.scalar_subquery())))
            forgotten += max(result.rowcount or 0, 0)
        return forgotten

    async def relay_pass(self, *, kicked: bool) -> None:
        while await self.publish_pending() == self.batch:
            pass
        if not kicked:  # the interval pass: a batch at a time keeps each delete short beside the app's writes
            await self.prune()


def _readable(body: str) -> object:
    """The row's body as JSON for the dead letter, or as text when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return {"raw": body}
