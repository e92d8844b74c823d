"""servicekit's Consumer: each subscriber dead-letters to a topic of its own."""

from __future__ import annotations

from servicekit.consumer import Consumer
from servicekit.events import EventEnvelope


def subscribed(consumer: Consumer[object]) -> list[dict[str, str]]:
    @consumer.on("order.created")
    async def handle(event: EventEnvelope, services: object) -> None:
        return None

    return consumer.subscriptions()


def test_a_named_subscriber_dead_letters_to_its_own_topic() -> None:
    [entry] = subscribed(Consumer("orders"))
    assert entry == {
        "pubsubname": "pubsub",
        "topic": "order.created",
        "route": "/events/order.created",
        "deadLetterTopic": "deadletters.orders",
    }


def test_an_unnamed_subscriber_uses_the_shared_topic() -> None:
    assert subscribed(Consumer())[0]["deadLetterTopic"] == "deadletters"


def test_an_explicit_topic_wins_and_none_means_no_dead_letters() -> None:
    assert subscribed(Consumer("orders", dead_letter_topic="elsewhere"))[0]["deadLetterTopic"] == "elsewhere"
    assert "deadLetterTopic" not in subscribed(Consumer("orders", dead_letter_topic=None))[0]


def test_the_apps_dead_letter_to_their_own_topics() -> None:
    from apps.analytics.events import consumer as analytics
    from apps.notifications.events import consumer as notifications
    from apps.orders.events import consumer as orders

    for app, consumer in (("orders", orders), ("notifications", notifications), ("analytics", analytics)):
        assert {s["deadLetterTopic"] for s in consumer.subscriptions()} == {f"deadletters.{app}"}
