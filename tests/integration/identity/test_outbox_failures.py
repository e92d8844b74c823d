"""identity's outbox sets a poison row aside with its error (migration 0003) and keeps the rows it had."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apps.identity.main import MIGRATIONS
from apps.identity.storage import outbox
from servicekit import new_event
from servicekit.consumer import dead_letter_topic_of
from servicekit.migrations import upgrade_to_head
from servicekit.outbox import OutboxRelay, record_event
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


async def test_an_unsent_row_survives_0003_and_is_still_sent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    await asyncio.to_thread(command.upgrade, config, "0002")  # Alembic runs its own event loop (servicekit.migrations)
    event = new_event({"userId": "u1"})
    with sqlite3.connect(tmp_path / "identity.db") as connection:
        connection.execute(
            "INSERT INTO outbox (event_id, topic, body, created_at) VALUES (?, 'user.registered', ?, '2026-01-01')",
            (event.event_id, event.model_dump_json(by_alias=True)),
        )
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)

    engine = create_async_engine(url)
    try:
        sidecar = FakeSidecar()
        assert await OutboxRelay(engine=engine, table=outbox, sidecar=sidecar).publish_pending() == 1
        assert [(topic, e.event_id) for topic, e in sidecar.published] == [("user.registered", event.event_id)]
    finally:
        await engine.dispose()


async def test_a_poison_row_is_stamped_failed_and_dead_lettered_to_deadletters_identity(engine: AsyncEngine) -> None:
    poison, good = new_event({"userId": "u1"}), new_event({"userId": "u2"})
    async with engine.begin() as connection:
        await record_event(connection, outbox, "user.registered", poison)
        await record_event(connection, outbox, "user.registered", good)
        await connection.execute(update(outbox).where(outbox.c.event_id == poison.event_id).values(body="{x"))
    sidecar = FakeSidecar()
    topic = dead_letter_topic_of("identity")
    relay = OutboxRelay(engine=engine, table=outbox, sidecar=sidecar, dead_letter_topic=topic)
    assert await relay.publish_pending() == 2
    assert [e.event_id for _, e in sidecar.published] == [good.event_id]
    [(dead_letter_topic, letter)] = sidecar.cloud_events
    assert (dead_letter_topic, letter["id"]) == ("deadletters.identity", poison.event_id)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(outbox.c.published_at, outbox.c.failed_at, outbox.c.error).where(
                    outbox.c.event_id == poison.event_id
                )
            )
        ).one()
    assert (row.published_at, row.failed_at is not None, row.error.startswith("UNREADABLE_BODY")) == (
        None,
        True,
        True,
    )
