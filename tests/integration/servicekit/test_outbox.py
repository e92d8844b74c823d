"""The transactional outbox on SQLite: rows commit with the change, the relay publishes each once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit import DependencyUnavailable, EventEnvelope, new_event
from servicekit.context import request_id_var
from servicekit.outbox import OutboxRelay, outbox_table, record_event
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


@pytest.fixture
def table() -> Table:
    return outbox_table(MetaData())


@pytest.fixture
async def engine(tmp_path: Path, table: Table) -> AsyncIterator[AsyncEngine]:
    """A fresh SQLite file holding only the outbox table."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
        yield engine
    finally:
        await engine.dispose()


async def rows(engine: AsyncEngine, table: Table) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(table))).all())


async def record(engine: AsyncEngine, table: Table, topic: str, payload: dict[str, Any]) -> EventEnvelope:
    event = new_event(payload)
    async with engine.begin() as connection:
        await record_event(connection, table, topic, event)
    return event


async def test_recorded_event_is_stored_unsent(engine: AsyncEngine, table: Table) -> None:
    event = await record(engine, table, "user.registered", {"userId": "u-1"})
    [row] = await rows(engine, table)
    assert row.event_id == event.event_id
    assert row.topic == "user.registered"
    assert row.published_at is None
    assert row.created_at is not None
    assert EventEnvelope.model_validate_json(row.body) == event


async def test_rolled_back_transaction_leaves_no_row(engine: AsyncEngine, table: Table) -> None:
    async with engine.connect() as connection:
        await connection.begin()
        await record_event(connection, table, "user.registered", new_event({"userId": "u-1"}))
        await connection.rollback()
    assert await rows(engine, table) == []


async def test_relay_publishes_once_and_marks_sent(engine: AsyncEngine, table: Table) -> None:
    first = await record(engine, table, "user.registered", {"userId": "u-1"})
    second = await record(engine, table, "order.placed", {"orderId": "o-1"})
    sidecar = FakeSidecar()
    relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar)
    assert await relay.publish_pending() == 2
    assert sorted(sidecar.published, key=lambda p: p[0]) == [("order.placed", second), ("user.registered", first)]
    assert all(row.published_at is not None for row in await rows(engine, table))
    assert await relay.publish_pending() == 0
    assert len(sidecar.published) == 2


async def test_relay_publishes_with_the_request_id_of_the_event(engine: AsyncEngine, table: Table) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    seen: list[str | None] = []

    class RecordingSidecar(FakeSidecar):
        async def publish(self, topic: str, event: EventEnvelope) -> None:
            seen.append(request_id_var.get())
            await super().publish(topic, event)

    token = request_id_var.set(request_id)
    try:
        await record(engine, table, "user.registered", {})
    finally:
        request_id_var.reset(token)
    await OutboxRelay(engine=engine, table=table, sidecar=RecordingSidecar()).publish_pending()
    assert request_id_var.get() is None
    assert seen == [request_id]


async def test_broker_down_keeps_the_row_for_a_later_pass(engine: AsyncEngine, table: Table) -> None:
    event = await record(engine, table, "user.registered", {"userId": "u-1"})
    sidecar = FakeSidecar()
    sidecar.broker_down = True
    relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar)
    with pytest.raises(DependencyUnavailable):
        await relay.publish_pending()
    assert sidecar.published == []
    assert [row.published_at for row in await rows(engine, table)] == [None]

    sidecar.broker_down = False
    assert await relay.publish_pending() == 1
    assert sidecar.published == [("user.registered", event)]
    assert await relay.publish_pending() == 0


async def test_relay_publishes_at_most_one_batch_per_pass(engine: AsyncEngine, table: Table) -> None:
    events = [await record(engine, table, "tick", {"n": n}) for n in range(3)]
    sidecar = FakeSidecar()
    relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar, batch=2)
    assert await relay.publish_pending() == 2
    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0
    assert sorted(e.event_id for _, e in sidecar.published) == sorted(e.event_id for e in events)


class CountingSidecar(FakeSidecar):
    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def publish(self, topic: str, event: EventEnvelope) -> None:
        self.attempts += 1
        await super().publish(topic, event)


async def until(condition: Callable[[], Awaitable[bool]], *, within: float = 5.0) -> None:
    """Poll a condition with a deadline, yielding to the relay task in between."""
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.01)


class DownSidecar(CountingSidecar):
    """Its broker is down until the test says otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.broker_down = True

    def recover(self) -> None:
        self.broker_down = False


class CutShortSidecar(CountingSidecar):
    """Its first publish ends in asyncio.CancelledError, as grpc.aio ends a call whose channel was closed."""

    async def publish(self, topic: str, event: EventEnvelope) -> None:
        self.attempts += 1
        if self.attempts == 1:
            raise asyncio.CancelledError
        await FakeSidecar.publish(self, topic, event)

    def recover(self) -> None:
        return None


@pytest.mark.parametrize(
    "failing", [DownSidecar, CutShortSidecar], ids=["broker-outage", "cancelled-error-not-its-stop"]
)
async def test_running_relay_outlives_a_failed_pass_and_publishes_when_kicked(
    engine: AsyncEngine, table: Table, failing: type[DownSidecar | CutShortSidecar]
) -> None:
    event = await record(engine, table, "order.created", {"orderId": "o-1"})
    sidecar = failing()
    relay = OutboxRelay(engine=engine, table=table, sidecar=sidecar, interval_seconds=3600)

    async def attempted() -> bool:
        return sidecar.attempts >= 1

    async def marked_sent() -> bool:
        return [row.published_at is not None for row in await rows(engine, table)] == [True]

    relay.start()
    try:
        await until(attempted)
        assert sidecar.published == []
        sidecar.recover()
        relay.kick()  # the next commit's kick: a relay that took the failure for its stop would not answer
        await until(marked_sent)
    finally:
        await relay.stop()
    assert sidecar.published == [("order.created", event)]
