"""servicekit's Consumer: handlers by topic, a named subscriber's own replays, and the delivery route."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from servicekit.consumer import Consumer, replay_cloud_event, replay_topic_of, route_of
from servicekit.events import Delivery, EventEnvelope, new_event, read_envelope
from servicekit.logs import JsonFormatter
from tests.unit.servicekit.helpers import build_app

NOW = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)

pytestmark = pytest.mark.anyio


def handling(consumer: Consumer[object], *topics: str) -> Consumer[object]:
    for topic in topics:

        @consumer.on(topic)
        async def handle(event: EventEnvelope, services: object) -> None:
            return None

    return consumer


def test_a_named_subscriber_subscribes_its_handlers_topics_then_its_own_replays() -> None:
    consumer = handling(Consumer("orders"), "payment.succeeded", "payment.failed")
    assert consumer.topics() == ["payment.succeeded", "payment.failed", "replays.orders"]


def test_an_unnamed_subscriber_has_no_replays() -> None:
    assert handling(Consumer(), "order.created").topics() == ["order.created"]


def test_a_consumer_without_handlers_subscribes_to_nothing() -> None:
    assert Consumer("orders").topics() == []


def test_it_serves_one_delivery_route_and_no_subscription_list() -> None:
    """The subscriptions are declared in YAML: the consumer adds no `/dapr/subscribe` of its own."""
    router = handling(Consumer("orders"), "payment.succeeded").router()
    assert [(r.path, r.methods) for r in router.routes if isinstance(r, APIRoute)] == [("/events/{topic}", {"POST"})]
    assert route_of("payment.succeeded") == "/events/payment.succeeded"


def test_the_apps_read_their_own_replays() -> None:
    from apps.analytics.events import consumer as analytics
    from apps.notifications.events import consumer as notifications
    from apps.orders.events import consumer as orders
    from apps.payments.events import consumer as payments

    for app, consumer in (("orders", orders), ("payments", payments), ("notifications", notifications)):
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

    async def deliver(self, topic: str, cloud_event: dict[str, Any]) -> Delivery:
        return await self.consumer.deliver(topic, cloud_event, object())


async def test_a_replay_goes_to_the_handler_of_its_original_topic() -> None:
    recording, event = Recording(), new_event({"orderId": uuid.uuid4().hex})
    replay = replay_cloud_event("order.cancelled", event, source="admin", now=NOW)
    assert await recording.deliver("replays.payments", {**replay, "topic": "replays.payments"}) is Delivery.SUCCESS
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
async def test_a_replay_of_an_unknown_or_missing_topic_is_dropped(change: dict[str, Any]) -> None:
    recording = Recording()
    replay = {**replay_cloud_event("order.created", new_event({}), source="admin", now=NOW), **change}
    assert (
        await recording.deliver("replays.payments", {k: v for k, v in replay.items() if v is not None}) is Delivery.DROP
    )
    assert recording.seen == []


async def test_another_subscribers_replay_topic_is_not_dispatched() -> None:
    recording = Recording()
    replay = replay_cloud_event("order.created", new_event({}), source="admin", now=NOW)
    assert await recording.deliver("replays.orders", replay) is Delivery.DROP
    assert recording.seen == []


async def test_a_plain_delivery_is_routed_by_its_topic_not_its_type() -> None:
    recording, event = Recording(), new_event({})
    cloud_event = replay_cloud_event("order.cancelled", event, source="orders", now=NOW)
    assert await recording.deliver("order.created", cloud_event) is Delivery.SUCCESS
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


def test_a_deliverys_access_line_is_written_under_the_request_that_staged_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = handling(Consumer("orders"), "payment.succeeded")
    app = build_app([consumer.router()])
    app.state.services = object()
    staged = new_event({"orderId": "o-1"}).model_copy(update={"request_id": "req-staged-1"})
    cloud_event = {
        "id": staged.event_id,
        "type": "payment.succeeded",
        "data": staged.model_dump(by_alias=True, mode="json"),
    }
    caplog.handler.setFormatter(JsonFormatter("unit-test"))  # formats as each line is written, in its context
    with caplog.at_level(logging.INFO, logger="servicekit.access"), TestClient(app) as client:
        answer = client.post(route_of("payment.succeeded"), json=cloud_event, headers={"X-Request-ID": "req-sidecar"})
        unreadable = client.post(route_of("payment.succeeded"), json={"data": {"requestId": "not safe\n"}})
    assert answer.json() == {"status": "SUCCESS"} and unreadable.json() == {"status": "DROP"}
    lines = [json.loads(line) for line in caplog.text.splitlines() if '"servicekit.access"' in line]
    assert [line["requestId"] for line in lines] == ["req-staged-1", unreadable.headers["X-Request-ID"]]
