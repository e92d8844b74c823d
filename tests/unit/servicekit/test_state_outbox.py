"""The state outbox stays bounded: a poison entry is set aside (the rest go on), nothing is lost while the broker
is down. The SQL outbox on SQLite: tests/integration/servicekit/test_outbox_bounds.py."""

from __future__ import annotations

import pytest

from servicekit import DependencyUnavailable, new_event
from servicekit.sidecar import StateOp
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
