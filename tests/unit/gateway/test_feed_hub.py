"""The live feed's hub, with no I/O: fan-out by topic, bounded queues that drop the oldest and count it,
a bounded number of clients, disconnecting, closing, and an event shown once."""

from __future__ import annotations

import pytest

from apps.gateway.feed import FeedClosed, FeedFull, FeedHub, FeedItem, TooManyFeedStreams

ALL = frozenset({"order.created", "order.confirmed", "payment.succeeded"})
ADMIN = "admin-1"
"""The subject of the token that opened a client (one per test: none reaches the per-subject limit)."""


class Wakes:
    """A client's writer, reduced to how often the hub told it there was something to take."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def item(n: int, topic: str = "order.created") -> FeedItem:
    return FeedItem(topic, f"e{n}", "2026-01-01T00:00:00Z", f"r{n}", {"orderId": f"o{n}"})


def ids(items: list[FeedItem]) -> list[str]:
    return [one.event_id for one in items]


def test_an_item_reaches_every_client_of_its_topic_and_wakes_it() -> None:
    hub = FeedHub()
    wakes_a, wakes_b, wakes_c = Wakes(), Wakes(), Wakes()
    a = hub.connect(ALL, wakes_a, subject=ADMIN)
    b = hub.connect(frozenset({"order.created"}), wakes_b, subject=ADMIN)
    c = hub.connect(frozenset({"payment.succeeded"}), wakes_c, subject=ADMIN)
    assert hub.publish(item(1)) is True
    assert hub.publish(item(2, "order.confirmed")) is True
    assert (wakes_a.count, wakes_b.count, wakes_c.count) == (2, 1, 0)
    assert a.take() == (0, [item(1), item(2, "order.confirmed")])
    assert b.take() == (0, [item(1)])
    assert c.take() == (0, [])
    assert a.take() == (0, [])  # taken once


def test_publishing_with_nobody_connected_is_fine() -> None:
    assert FeedHub().publish(item(1)) is True


def test_a_full_queue_drops_its_oldest_items_and_counts_them_until_the_next_take() -> None:
    hub = FeedHub(queue_size=3)
    slow = hub.connect(ALL, Wakes(), subject=ADMIN)
    fast = hub.connect(ALL, Wakes(), subject=ADMIN)
    for n in range(1, 6):
        hub.publish(item(n))
        if n in (2, 4):
            assert fast.take()[0] == 0
    missed, items = slow.take()
    assert (missed, ids(items)) == (2, ["e3", "e4", "e5"])
    assert fast.take() == (0, [item(5)])
    hub.publish(item(6))
    assert slow.take() == (0, [item(6)])  # the count was reported once


def test_a_client_that_never_reads_costs_at_most_its_queue() -> None:
    hub = FeedHub(queue_size=4)
    client = hub.connect(ALL, Wakes(), subject=ADMIN)
    for n in range(10_000):
        hub.publish(item(n))
    missed, items = client.take()
    assert (missed, ids(items)) == (9_996, ["e9996", "e9997", "e9998", "e9999"])


def test_clients_are_bounded_and_a_disconnect_frees_a_place() -> None:
    hub = FeedHub(max_clients=2)
    first = hub.connect(ALL, Wakes(), subject=ADMIN)
    hub.connect(ALL, Wakes(), subject=ADMIN)
    with pytest.raises(FeedFull) as refused:
        hub.connect(ALL, Wakes(), subject=ADMIN)
    assert refused.value.status == 503 and refused.value.code == "EVENT_FEED_FULL" and refused.value.retry_after
    hub.disconnect(first)
    hub.disconnect(first)  # twice is harmless
    assert first.closed
    hub.connect(ALL, Wakes(), subject=ADMIN)
    assert len(hub.clients) == 2


def test_one_subject_may_hold_only_so_many_clients_and_a_disconnect_frees_one() -> None:
    hub = FeedHub(max_clients=10, max_clients_per_subject=3)
    held = [hub.connect(ALL, Wakes(), subject="admin-1") for _ in range(3)]
    with pytest.raises(TooManyFeedStreams) as refused:
        hub.connect(ALL, Wakes(), subject="admin-1")
    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (429, "TOO_MANY_FEED_STREAMS", 5)
    hub.connect(ALL, Wakes(), subject="admin-2")  # another subject still has its own
    hub.disconnect(held[0])
    hub.connect(ALL, Wakes(), subject="admin-1")
    assert len(hub.clients) == 4


def test_a_disconnected_client_gets_nothing_more() -> None:
    hub = FeedHub()
    client = hub.connect(ALL, Wakes(), subject=ADMIN)
    hub.disconnect(client)
    hub.publish(item(1))
    assert client.take() == (0, [])


def test_closing_ends_every_client_and_refuses_new_ones() -> None:
    hub = FeedHub()
    wakes = Wakes()
    client = hub.connect(ALL, wakes, subject=ADMIN)
    hub.publish(item(1))
    hub.close()
    hub.close()  # twice is harmless
    assert client.closed and wakes.count == 2 and not hub.clients
    assert client.take() == (0, [item(1)])  # what was queued may still be written
    with pytest.raises(FeedClosed):
        hub.connect(ALL, Wakes(), subject=ADMIN)


def test_an_event_id_is_shown_once_among_the_recent_ones() -> None:
    """A redelivery (the stock event's cache part failed, the broker redelivered) is not shown twice."""
    hub = FeedHub(recent_ids=2)
    client = hub.connect(ALL, Wakes(), subject=ADMIN)
    assert [hub.publish(item(n)) for n in (1, 1, 2, 3, 1)] == [True, False, True, True, True]
    assert ids(client.take()[1]) == ["e1", "e2", "e3", "e1"]  # e1 was forgotten: only the last two are kept
    assert len(hub._seen) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"max_clients": 0},
        {"max_clients_per_subject": 0},
        {"queue_size": 0},
        {"recent_ids": -1},
        {"heartbeat_seconds": 0},
    ],
)
def test_a_hub_needs_room(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="room"):
        FeedHub(**bad)
