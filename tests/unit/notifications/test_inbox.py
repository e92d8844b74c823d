"""The inbox: newest first, each event once, at most 200 items, no lost concurrent writes."""

from __future__ import annotations

import asyncio

import pytest

from apps.notifications.domain import KEEP_ITEMS, Inbox, Notify
from apps.notifications.events import consumer
from servicekit import Delivery
from tests.unit.fakes import FakeSidecar, InterleavingSidecar
from tests.unit.notifications.helpers import (
    START,
    cloud_event,
    deliver,
    envelope,
    inbox,
    messages,
    new_id,
    services_on,
)
from tests.unit.servicekit.helpers import sample

pytestmark = pytest.mark.anyio


def expired(user_id: str, order_id: str) -> dict[str, object]:
    return {"orderId": order_id, "userId": user_id, "total": 1}


async def test_notifications_are_kept_newest_first_by_when_things_happened(sidecar: FakeSidecar) -> None:
    user_id = new_id()
    await deliver(sidecar, "order.expired", envelope(expired(user_id, "bbbbbbbb-2"), minute=5))
    await deliver(sidecar, "order.expired", envelope(expired(user_id, "aaaaaaaa-1"), minute=1))  # late delivery
    await deliver(sidecar, "order.expired", envelope(expired(user_id, "cccccccc-3"), minute=9))
    assert [m[6:14] for m in messages(sidecar, user_id)] == ["cccccccc", "bbbbbbbb", "aaaaaaaa"]


async def test_redelivered_event_changes_nothing(sidecar: FakeSidecar) -> None:
    user_id = new_id()
    event = envelope({"userId": user_id, "name": "Ada"})
    assert await deliver(sidecar, "user.registered", event) is Delivery.SUCCESS
    before = inbox(sidecar, user_id)
    etag = sidecar.state[("statestore", f"notifications:{user_id}")].etag
    duplicates = sample("junction_event_deliveries_total", topic="user.registered", outcome="duplicate")
    assert await deliver(sidecar, "user.registered", event) is Delivery.SUCCESS
    assert sample("junction_event_deliveries_total", topic="user.registered", outcome="duplicate") == duplicates + 1
    assert inbox(sidecar, user_id) == before
    assert sidecar.state[("statestore", f"notifications:{user_id}")].etag == etag  # not even rewritten
    assert "seen" not in before or before["seen"] == []  # the marker remembers, not the inbox
    assert ("statestore", f"applied:{event.event_id}") in sidecar.state


async def test_users_have_separate_inboxes(sidecar: FakeSidecar) -> None:
    ada, bob = new_id(), new_id()
    await deliver(sidecar, "user.registered", envelope({"userId": ada, "name": "Ada"}))
    await deliver(sidecar, "user.registered", envelope({"userId": bob, "name": "Bob"}))
    assert messages(sidecar, ada) == ["Welcome to Junction, Ada!"]
    assert messages(sidecar, bob) == ["Welcome to Junction, Bob!"]


async def test_concurrent_events_for_one_user_are_all_kept() -> None:
    sidecar, user_id = InterleavingSidecar(), new_id()
    events = [envelope(expired(user_id, f"order-{n:02d}"), minute=n) for n in range(10)]
    services = services_on(sidecar)  # one instance: its deliveries take turns on the inbox
    deliveries = await asyncio.gather(
        *(consumer.deliver("order.expired", cloud_event("order.expired", e), services) for e in events)
    )
    assert deliveries == [Delivery.SUCCESS] * 10
    stored = inbox(sidecar, user_id)
    assert [i["orderId"] for i in stored["items"]] == [f"order-{n:02d}" for n in reversed(range(10))]
    assert all(("statestore", f"applied:{e.event_id}") in sidecar.state for e in events)
    assert sidecar.clashes == 0  # they took turns on the inbox


def test_only_the_newest_items_are_kept() -> None:
    box = Inbox()
    for n in range(KEEP_ITEMS + 5):
        changed = box.receive(Notify("u-1", "user.registered", f"m{n}", f"e{n}", START, None))
        assert changed is not None
        box = changed
    assert len(box.items) == KEEP_ITEMS
    assert box.items[0].message == f"m{KEEP_ITEMS + 4}"  # same time: the newcomer goes first
    assert box.items[-1].message == "m5"
    assert box.seen == ()  # markers remember applied events; the inbox stays the same size


def test_an_inbox_written_before_markers_still_knows_its_ids() -> None:
    legacy = Inbox(seen=("e-old",))
    assert legacy.receive(Notify("u-1", "user.registered", "again", "e-old", START, None)) is None
