"""The state outbox stays bounded: a poison entry is set aside (the rest go on), nothing is lost while the broker
is down. The SQL outbox on SQLite: tests/integration/servicekit/test_outbox_bounds.py."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from servicekit import DependencyUnavailable, EventEnvelope, new_event
from servicekit.sidecar import StateItem, StateOp
from servicekit.state_outbox import StateOutbox
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


async def test_the_state_outbox_sets_a_poison_entry_aside_and_publishes_the_rest() -> None:
    sidecar = FakeSidecar()
    sidecar.refused_topics.add("tenant.forbidden")
    outbox = StateOutbox(sidecar, shards=1, dead_letter_topic="deadletters.admin")
    good, refused = new_event({"n": 1}), new_event({"n": 2})
    events = [("tenant.forbidden", refused), ("tenant.provisioned", good)]
    await outbox.commit([StateOp("tenant:1", {"n": 1})], events)
    staged = await sidecar.get_state("outbox:0")
    assert staged is not None
    broken = {"topic": "tenant.provisioned", "event": {"eventId": 7}}
    await sidecar.save_state("outbox:0", {"pending": [broken, *staged.value["pending"]]})
    assert await outbox.publish_pending() == 3
    assert sidecar.published == [("tenant.provisioned", good)]
    assert [(t, e["type"]) for t, e in sidecar.cloud_events] == [
        ("deadletters.admin", "tenant.provisioned"),
        ("deadletters.admin", "tenant.forbidden"),
    ]
    assert sidecar.cloud_events[0][1]["junctionerror"].startswith("UNREADABLE_ENTRY")
    assert sidecar.cloud_events[1][1]["id"] == refused.event_id
    after = await sidecar.get_state("outbox:0")
    assert after is not None and after.value["pending"] == []


async def test_the_state_outbox_keeps_everything_while_the_broker_is_down() -> None:
    sidecar = FakeSidecar()
    outbox = StateOutbox(sidecar, shards=1)
    await outbox.commit([StateOp("tenant:1", {"n": 1})], [("tenant.provisioned", new_event({"n": 1}))])
    sidecar.broker_down = True
    with pytest.raises(DependencyUnavailable):
        await outbox.publish_pending()
    assert sidecar.cloud_events == []
    assert len(sidecar.staged_events()) == 1


class CountingSidecar(FakeSidecar):
    """Counts the single and the bulk state reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = {"single": 0, "bulk": 0}

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        self.reads["single"] += 1
        return await super().get_state(key, store=store)

    async def get_bulk_state(self, keys: Sequence[str], *, store: str | None = None) -> dict[str, StateItem]:
        self.reads["bulk"] += 1
        found = await super().get_bulk_state(keys, store=store)  # the fake's bulk read goes through get_state
        self.reads["single"] -= len(keys)
        return found


async def test_the_interval_pass_finds_staged_shards_with_one_bulk_read_and_reads_only_those() -> None:
    sidecar = CountingSidecar()
    outbox = StateOutbox(sidecar, shards=64)
    assert await outbox.publish_pending() == 0
    assert sidecar.reads == {"single": 0, "bulk": 1}  # an idle app's pass: one read, whatever the shards
    event = new_event({"n": 1})
    await outbox.commit([StateOp("tenant:1", {"n": 1})], [("tenant.provisioned", event)])
    sidecar.reads = {"single": 0, "bulk": 0}
    assert await outbox.publish_pending() == 1
    assert sidecar.published == [("tenant.provisioned", event)]
    assert sidecar.reads == {"single": 1, "bulk": 1}  # the staged shard's read; its forget writes against it


async def test_an_event_staged_while_its_shard_was_published_stays_staged() -> None:
    sidecar = CountingSidecar()
    first, meanwhile = new_event({"n": 1}), new_event({"n": 2})
    publish = sidecar.publish

    async def publish_while_another_commits(topic: str, event: EventEnvelope) -> None:
        await publish(topic, event)
        if event.event_id == first.event_id:
            await outbox.commit([StateOp("tenant:2", {"n": 2})], [("tenant.provisioned", meanwhile)])

    sidecar.publish = publish_while_another_commits  # type: ignore[method-assign]
    outbox = StateOutbox(sidecar, shards=1)
    await outbox.commit([StateOp("tenant:1", {"n": 1})], [("tenant.provisioned", first)])
    sidecar.reads = {"single": 0, "bulk": 0}
    assert await outbox.publish_pending(["outbox:0"]) == 1
    left = await sidecar.get_state("outbox:0")
    assert left is not None
    assert [entry["event"]["eventId"] for entry in left.value["pending"]] == [meanwhile.event_id]
    assert sidecar.reads["single"] == 4  # the shard's, the commit's, the forget's once its ETag clashed, this one
