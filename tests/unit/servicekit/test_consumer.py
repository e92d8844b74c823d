"""servicekit's Consumer: each subscriber dead-letters to a topic of its own and reads its own replays."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from servicekit.consumer import Consumer, TopicScope, replay_cloud_event, replay_topic_of
from servicekit.events import Delivery, EventEnvelope, new_event, read_envelope

NOW = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)


def subscribed(consumer: Consumer[object]) -> list[dict[str, str]]:
    @consumer.on("order.created")
    async def handle(event: EventEnvelope, services: object) -> None:
        return None

    return consumer.subscriptions()


def test_a_named_subscriber_dead_letters_to_its_own_topic_and_reads_its_replays() -> None:
    entry, replays = subscribed(Consumer("orders"))
    assert entry == {
        "pubsubname": "pubsub",
        "topic": "order.created",
        "route": "/events/order.created",
        "deadLetterTopic": "deadletters.orders",
    }
    assert replays == {
        "pubsubname": "pubsub",
        "topic": "replays.orders",
        "route": "/events/replays.orders",
        "deadLetterTopic": "deadletters.orders",
    }


def test_an_unnamed_subscriber_uses_the_shared_topic_and_has_no_replays() -> None:
    assert [(s["topic"], s["deadLetterTopic"]) for s in subscribed(Consumer())] == [("order.created", "deadletters")]


def test_an_explicit_topic_wins_and_none_means_no_dead_letters() -> None:
    assert {s["deadLetterTopic"] for s in subscribed(Consumer("orders", dead_letter_topic="elsewhere"))} == {
        "elsewhere"
    }
    assert all("deadLetterTopic" not in s for s in subscribed(Consumer("orders", dead_letter_topic=None)))


def test_a_consumer_without_handlers_subscribes_to_nothing() -> None:
    consumer: Consumer[object] = Consumer("orders")
    assert consumer.subscriptions() == []
    assert consumer.scope() == TopicScope(publishes=frozenset(), subscribes=frozenset())


def test_the_scope_is_what_the_sidecar_subscribes_and_publishes_for_the_consumer() -> None:
    consumer: Consumer[object] = Consumer("orders")
    subscribed(consumer)
    assert consumer.scope() == TopicScope(
        publishes=frozenset({"deadletters.orders"}), subscribes=frozenset({"order.created", "replays.orders"})
    )


def test_the_apps_dead_letter_to_their_own_topics_and_read_their_own_replays() -> None:
    from apps.analytics.events import consumer as analytics
    from apps.notifications.events import consumer as notifications
    from apps.orders.events import consumer as orders
    from apps.payments.events import consumer as payments

    for app, consumer in (("orders", orders), ("payments", payments), ("notifications", notifications)):
        assert {s["deadLetterTopic"] for s in consumer.subscriptions()} == {f"deadletters.{app}"}
        assert [t for t in consumer.topics() if t.startswith("replays.")] == [replay_topic_of(app)]
    assert replay_topic_of("analytics") in analytics.topics()


class Recording:
    """A consumer of two topics that records which handler saw which event."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.consumer: Consumer[object] = Consumer("payments")
        for topic in ("order.created", "order.cancelled"):
            self.consumer.on(topic)(self._handler(topic))

    def _handler(self, topic: str) -> Any:
        async def handle(event: EventEnvelope, services: object) -> None:
            self.seen.append((topic, event.event_id))

        return handle

    def deliver(self, topic: str, cloud_event: dict[str, Any]) -> Delivery:
        return asyncio.run(self.consumer.deliver(topic, cloud_event, object()))


def test_a_replay_goes_to_the_handler_of_its_original_topic() -> None:
    recording, event = Recording(), new_event({"orderId": uuid.uuid4().hex})
    replay = replay_cloud_event("order.cancelled", event, source="admin", now=NOW)
    assert recording.deliver("replays.payments", {**replay, "topic": "replays.payments"}) is Delivery.SUCCESS
    assert recording.seen == [("order.cancelled", event.event_id)]


@pytest.mark.parametrize(
    "change",
    [
        {"type": "payment.succeeded"},  # a topic this subscriber has no handler for
        {"type": "replays.payments"},
        {"type": ""},
        {"type": 7},
        {"type": None},
    ],
)
def test_a_replay_of_an_unknown_or_missing_topic_is_dropped(change: dict[str, Any]) -> None:
    recording = Recording()
    replay = {**replay_cloud_event("order.created", new_event({}), source="admin", now=NOW), **change}
    assert recording.deliver("replays.payments", {k: v for k, v in replay.items() if v is not None}) is Delivery.DROP
    assert recording.seen == []


def test_another_subscribers_replay_topic_is_not_dispatched() -> None:
    recording = Recording()
    replay = replay_cloud_event("order.created", new_event({}), source="admin", now=NOW)
    assert recording.deliver("replays.orders", replay) is Delivery.DROP
    assert recording.seen == []


def test_a_plain_delivery_is_routed_by_its_topic_not_its_type() -> None:
    recording, event = Recording(), new_event({})
    cloud_event = replay_cloud_event("order.cancelled", event, source="orders", now=NOW)
    assert recording.deliver("order.created", cloud_event) is Delivery.SUCCESS
    assert recording.seen == [("order.created", event.event_id)]


def test_a_replays_cloud_event_keeps_the_event_id_and_names_the_original_topic() -> None:
    event = new_event({"orderId": "o-1"})
    replay = replay_cloud_event("order.created", event, source="admin", now=NOW)
    assert {k: replay[k] for k in ("specversion", "id", "source", "type", "datacontenttype")} == {
        "specversion": "1.0",
        "id": event.event_id,
        "source": "admin",
        "type": "order.created",
        "datacontenttype": "application/json",
    }
    assert replay["time"] == "2026-12-01T10:00:00.123456Z"  # finer than Dapr's seconds: each replay differs
    assert read_envelope(replay, known_versions=frozenset({1})) == event
