"""Transactional outbox: events are rows written with the change, then relayed to the broker.

A row is written in the same database transaction as the state change that caused it, so a
crash between commit and publish loses nothing; the relay publishes unsent rows (at least once,
consumers drop duplicates by event id) and stamps them sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from servicekit.context import request_id_var
from servicekit.errors import JunctionError
from servicekit.events import EventEnvelope
from servicekit.sidecar import SidecarClient

log = logging.getLogger("servicekit.outbox")


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


class OutboxRelay:
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
        self.engine = engine
        self.table = table
        self.sidecar = sidecar
        self.interval_seconds = interval_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Ask for a relay pass now (after a commit that wrote events)."""
        self._wake.set()

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
        sent = 0
        for event_id, topic, body in rows:
            event = EventEnvelope.model_validate_json(body)
            token = request_id_var.set(event.request_id)
            try:
                await self.sidecar.publish(topic, event)
            finally:
                request_id_var.reset(token)
            async with self.engine.begin() as connection:
                await connection.execute(
                    update(table).where(table.c.event_id == event_id).values(published_at=datetime.now(UTC))
                )
            sent += 1
        return sent

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()
            try:
                while await self.publish_pending() == self.batch:
                    pass
            except JunctionError as exc:
                log.warning("outbox relay will retry: %s", exc.message)
            except Exception:
                log.exception("outbox relay pass failed; will retry")

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")
        self.kick()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def __aenter__(self) -> OutboxRelay:
        self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
