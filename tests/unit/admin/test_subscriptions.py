"""One `/dapr/subscribe` merged from every part of admin, including servicekit Consumers."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from apps.admin.deadletters.events import CONSUMERS, SUBSCRIBERS
from apps.admin.deadletters.events import scope as dead_letter_scope
from apps.admin.deadletters.events import subscriptions as dead_letter_subscriptions
from apps.admin.subscriptions import delivery_routes, merge_subscriptions
from servicekit.consumer import Consumer, TopicScope
from servicekit.events import EventEnvelope


def consumer() -> Consumer[object]:
    tenants: Consumer[object] = Consumer()

    @tenants.on("tenant.provisioned")
    async def handle(event: EventEnvelope, services: object) -> None:
        return None

    return tenants


def test_sources_are_concatenated_in_order() -> None:
    merged = merge_subscriptions([lambda: dead_letter_subscriptions("pubsub", ["payments"]), consumer().subscriptions])
    assert merged == [
        {"pubsubname": "pubsub", "topic": "deadletters", "route": "/deadletters"},
        {"pubsubname": "pubsub", "topic": "deadletters.payments", "route": "/deadletters/payments"},
        {
            "pubsubname": "pubsub",
            "topic": "tenant.provisioned",
            "route": "/events/tenant.provisioned",
            "deadLetterTopic": "deadletters",
        },
    ]


def test_a_topic_claimed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"tenant\.provisioned"):
        merge_subscriptions([consumer().subscriptions, consumer().subscriptions])


def test_delivery_routes_drop_only_the_consumers_own_subscribe() -> None:
    kept = delivery_routes(consumer().router())
    assert [(route.path, route.methods) for route in kept.routes if isinstance(route, APIRoute)] == [
        ("/events/{topic}", {"POST"})
    ]


def test_admin_reads_every_dead_letter_topic_and_publishes_only_the_consumers_replay_topics() -> None:
    assert dead_letter_scope(["payments", "identity"], ["payments"]) == TopicScope(
        publishes=frozenset({"replays.payments"}),
        subscribes=frozenset({"deadletters", "deadletters.payments", "deadletters.identity"}),
    )
    assert dead_letter_scope().publishes == {
        "replays.orders",
        "replays.payments",
        "replays.notifications",
        "replays.analytics",
    }


def test_the_consumers_admin_replays_to_are_the_apps_that_read_a_replay_topic() -> None:
    from apps.analytics.events import consumer as analytics
    from apps.notifications.events import consumer as notifications
    from apps.orders.events import consumer as orders
    from apps.payments.events import consumer as payments

    readers = {c.subscriber for c in (analytics, notifications, orders, payments) if c.replay_topic in c.topics()}
    assert readers == set(CONSUMERS)
    assert set(CONSUMERS) <= set(SUBSCRIBERS)  # admin keeps their dead letters, so it can replay them
