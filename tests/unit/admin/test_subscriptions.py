"""One `/dapr/subscribe` merged from every part of admin, including servicekit Consumers."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from apps.admin.deadletters.events import subscriptions as dead_letter_subscriptions
from apps.admin.subscriptions import delivery_routes, merge_subscriptions
from servicekit.consumer import Consumer
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
