"""Transactional outbox: events are rows written with the change, then relayed to the broker.

A row is written in the same database transaction as the state change that caused it, so a
crash between commit and publish loses nothing; the relay publishes unsent rows (at least once,
consumers drop duplicates by event id) and stamps them sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from servicekit.events import EventEnvelope
from servicekit.relay import Relay
from servicekit.sidecar import SidecarClient


def outbox_table(metadata: MetaData) -> Table:
    """Declare the outbox table in an app's metadata (its migrations create it)."""
    return Table(
        "outbox",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    )


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

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        table: Table,
        sidecar: SidecarClient,
        interval_seconds: float = 2.0,
        batch: int = 100,
    ) -> None:
        super().__init__(sidecar=sidecar, interval_seconds=interval_seconds, name="outbox relay")
        self.engine = engine
        self.table = table
        self.batch = batch

    async def publish_pending(self) -> int:
        """Publish up to one batch of unsent events in creation order; return how many were sent."""
        table = self.table
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(table.c.event_id, table.c.topic, table.c.body)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.created_at)
                    .limit(self.batch)
                )
            ).all()
        sent: list[str] = []
        try:
            for event_id, topic, body in rows:
                await self.publish(topic, EventEnvelope.model_validate_json(body))
                sent.append(event_id)
        finally:
            if sent:  # one write for the batch: fewer transactions competing with the app's own
                async with self.engine.begin() as connection:
                    await connection.execute(
                        update(table).where(table.c.event_id.in_(sent)).values(published_at=datetime.now(UTC))
                    )
        return len(sent)

    async def relay_pass(self, *, kicked: bool) -> None:
        while await self.publish_pending() == self.batch:
            pass
