"""The SQL outbox stays bounded, on SQLite: a poison row is set aside (the rest go on), sent rows are forgotten
in time. The state outbox's poison entries: tests/unit/servicekit/test_state_outbox.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit import DependencyUnavailable, EventEnvelope, new_event
from servicekit.horizons import OUTBOX_KEEP_SENT_SECONDS, REPLAY_HORIZON_SECONDS
from servicekit.outbox import OutboxRelay, Retention, outbox_table, record_event
from tests.unit.fakes import FakeSidecar

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def outbox_database(tmp_path: Path, *, failures: bool = True) -> AsyncIterator[tuple[AsyncEngine, Table, Table]]:
    """A fresh SQLite file with an outbox and an applied-events table: (engine, outbox, applied)."""
    metadata = MetaData()
    table = outbox_table(metadata, failures=failures)
    applied = Table(
        "processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / f'outbox-{uuid.uuid4().hex}.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield engine, table, applied
    finally:
        await engine.dispose()


async def record(engine: AsyncEngine, table: Table, topic: str, n: int) -> EventEnvelope:
    event = new_event({"n": n})
    async with engine.begin() as connection:
        await record_event(connection, table, topic, event)
    return event


async def all_rows(engine: AsyncEngine, table: Table) -> list[Any]:
    async with engine.connect() as connection:
        order = table.c.created_at if "created_at" in table.c else table.c.event_id
        return list((await connection.execute(select(table).order_by(order))).all())


async def test_an_unreadable_row_is_set_aside_and_the_rest_are_sent(tmp_path: Path) -> None:
    async with outbox_database(tmp_path) as (engine, table, _):
        first = await record(engine, table, "order.created", 1)
        poison = await record(engine, table, "order.created", 2)
        last = await record(engine, table, "order.created", 3)
        async with engine.begin() as connection:
            await connection.execute(update(table).where(table.c.event_id == poison.event_id).values(body="{oops"))
        sidecar = FakeSidecar()
        relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar, dead_letter_topic="deadletters.orders")
        assert await relay.publish_pending() == 3
        assert [e.event_id for _, e in sidecar.published] == [first.event_id, last.event_id]
        [(topic, letter)] = sidecar.cloud_events
        assert topic == "deadletters.orders"
        assert (letter["id"], letter["type"], letter["data"]) == (poison.event_id, "order.created", {"raw": "{oops"})
        assert letter["junctionerror"].startswith("UNREADABLE_BODY")
        marked = {row.event_id: row for row in await all_rows(engine, table)}
        assert marked[poison.event_id].published_at is None
        assert marked[poison.event_id].failed_at is not None
        assert marked[poison.event_id].error.startswith("UNREADABLE_BODY")
        assert await relay.publish_pending() == 0  # set aside for good: never tried again


async def test_a_publish_refused_for_good_is_set_aside_with_its_envelope(tmp_path: Path) -> None:
    async with outbox_database(tmp_path) as (engine, table, _):
        refused = await record(engine, table, "order.forbidden", 1)
        sent = await record(engine, table, "order.created", 2)
        sidecar = FakeSidecar()
        sidecar.refused_topics.add("order.forbidden")
        relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar)
        assert await relay.publish_pending() == 2
        assert sidecar.published == [("order.created", sent)]
        [(topic, letter)] = sidecar.cloud_events
        assert topic == "deadletters"
        assert EventEnvelope.model_validate(letter["data"]) == refused  # kept whole for an operator to inspect
        assert "PUBLISH_REFUSED" in letter["junctionerror"]


async def test_a_transient_failure_keeps_order_and_sets_nothing_aside(tmp_path: Path) -> None:
    async with outbox_database(tmp_path) as (engine, table, _):
        await record(engine, table, "order.created", 1)
        sidecar = FakeSidecar()
        sidecar.broker_down = True
        relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar)
        with pytest.raises(DependencyUnavailable):
            await relay.publish_pending()
        assert sidecar.cloud_events == []
        [row] = await all_rows(engine, table)
        assert (row.published_at, row.failed_at) == (None, None)


async def test_a_dead_letter_that_cannot_be_published_keeps_the_row_for_later(tmp_path: Path) -> None:
    async with outbox_database(tmp_path) as (engine, table, _):
        await record(engine, table, "order.forbidden", 1)
        sidecar = FakeSidecar()
        sidecar.refused_topics |= {"order.forbidden", "deadletters"}
        with pytest.raises(Exception, match="refused"):
            await OutboxRelay(engine=engine, table=table, sidecar=sidecar).publish_pending()
        [row] = await all_rows(engine, table)
        assert (row.published_at, row.failed_at) == (None, None)


async def test_without_failure_columns_a_poison_row_is_stamped_sent(tmp_path: Path) -> None:
    async with outbox_database(tmp_path, failures=False) as (engine, table, _):
        await record(engine, table, "order.forbidden", 1)
        sidecar = FakeSidecar()
        sidecar.refused_topics.add("order.forbidden")
        relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar)
        assert await relay.publish_pending() == 1
        [row] = await all_rows(engine, table)
        assert row.published_at is not None
        assert len(sidecar.cloud_events) == 1


async def test_rows_sent_or_set_aside_before_the_horizon_are_pruned_in_batches(tmp_path: Path) -> None:
    async with outbox_database(tmp_path) as (engine, table, applied):
        old = NOW - timedelta(seconds=OUTBOX_KEEP_SENT_SECONDS + 60)
        recent = NOW - timedelta(seconds=OUTBOX_KEEP_SENT_SECONDS - 60)
        events = [await record(engine, table, "tick", n) for n in range(6)]
        stamps = [("published_at", old)] * 3 + [("failed_at", old), ("published_at", recent), ("published_at", None)]
        async with engine.begin() as connection:
            for event, (column, at) in zip(events, stamps, strict=True):
                await connection.execute(update(table).where(table.c.event_id == event.event_id).values({column: at}))
            ids = [{"event_id": "e-old", "processed_at": old}, {"event_id": "e-new", "processed_at": NOW}]
            await connection.execute(insert(applied), ids)
        relay = OutboxRelay(
            engine=engine,
            table=table,
            sidecar=FakeSidecar(),
            prune_batch=2,
            retentions=[Retention(applied, applied.c.processed_at, REPLAY_HORIZON_SECONDS)],
        )
        assert await relay.prune(now=NOW) == 3  # two outbox rows (one batch) and the old applied id
        assert await relay.prune(now=NOW) == 2
        assert await relay.prune(now=NOW) == 0
        kept = [row.event_id for row in await all_rows(engine, table)]
        assert kept == [events[4].event_id, events[5].event_id]  # the recent one, and the unsent one
        assert [row.event_id for row in await all_rows(engine, applied)] == ["e-new"]


async def test_only_the_interval_pass_prunes(tmp_path: Path) -> None:
    async with outbox_database(tmp_path) as (engine, table, _):
        event = await record(engine, table, "tick", 1)
        async with engine.begin() as connection:
            stale = NOW - timedelta(days=30)
            await connection.execute(update(table).where(table.c.event_id == event.event_id).values(published_at=stale))
        relay = OutboxRelay(engine=engine, table=table, sidecar=FakeSidecar())
        await relay.relay_pass(kicked=True)
        assert len(await all_rows(engine, table)) == 1
        await relay.relay_pass(kicked=False)
        assert await all_rows(engine, table) == []
