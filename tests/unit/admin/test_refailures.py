"""A replay goes to the subscriber that gave up on the event; one that fails again is a new, visible letter."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from apps.admin.deadletters import service
from apps.admin.deadletters.storage import DaprStateDeadLetterRepository, event_key
from servicekit import Delivery, EventEnvelope
from servicekit.consumer import Consumer
from tests.unit.admin.helpers import client, cloud_event, envelope
from tests.unit.fakes import FakeSidecar
from tests.unit.servicekit.helpers import sample


def arrive(sidecar: FakeSidecar, event: Any, subscriber: str | None = "payments") -> dict[str, str]:
    """Deliver a dead letter through admin's real subscription route, as the sidecar does."""
    route = "/deadletters" if subscriber is None else f"/deadletters/{subscriber}"
    response = client(sidecar).post(route, content=json.dumps(event).encode())
    assert response.status_code == 200
    result: dict[str, str] = response.json()
    return result


def listed(sidecar: FakeSidecar) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client(sidecar).get("/dead-letters").json()["data"]["items"]
    return items


def replay(sidecar: FakeSidecar, letter_id: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client(sidecar).post(f"/dead-letters/{letter_id}/replay", json={"payload": payload} if payload else None)
    body: dict[str, Any] = response.json()
    assert body["success"] is True, body
    data: dict[str, Any] = body["data"]
    return data


def failed(sent: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A replay admin published, as the subscriber's sidecar forwards it to its dead-letter topic on failure.

    Dapr adds the topic it was published to (`replays.<subscriber>`) and forwards the rest unchanged.
    """
    topic, cloud_event = sent
    return {
        **cloud_event,
        "topic": topic,
        "pubsubname": "pubsub",
        "traceparent": "00-" + "3" * 32 + "-" + "4" * 16 + "-01",
    }


def test_each_subscribers_letter_of_one_event_is_kept_and_names_it(sidecar: FakeSidecar) -> None:
    event = cloud_event("order.created")
    for subscriber in ("payments", "notifications", None):
        assert arrive(sidecar, event, subscriber) == {"status": "SUCCESS"}
        assert arrive(sidecar, event, subscriber) == {"status": "SUCCESS"}  # the broker's redelivery
    letters = listed(sidecar)
    assert [letter["subscriber"] for letter in letters] == [None, "notifications", "payments"]
    assert {letter["eventId"] for letter in letters} == {event["id"]}
    assert event_key(event["id"], "payments") == f"deadletter-event:payments:{event['id']}"


def test_a_replay_that_fails_again_is_a_new_pending_letter_and_the_old_one_says_so(sidecar: FakeSidecar) -> None:
    original = cloud_event("order.created", envelope(orderId="o-1"))
    arrive(sidecar, original)
    [first] = listed(sidecar)

    assert replay(sidecar, first["id"])["status"] == "REPLAYED"
    [sent] = sidecar.cloud_events
    assert (sent[0], sent[1]["type"], sidecar.published) == ("replays.payments", "order.created", [])
    arrive(sidecar, failed(sent))  # the subscriber failed the replay too

    second, old = listed(sidecar)
    assert (second["status"], second["replayOf"], second["eventId"], second["subscriber"]) == (
        "PENDING",
        first["id"],
        original["id"],
        "payments",
    )
    assert (second["originalTopic"], second["cloudEvent"]["topic"]) == ("order.created", "replays.payments")
    assert (old["id"], old["status"], old["failedAgainAs"], old["replays"]) == (
        first["id"],
        "FAILED_AGAIN",
        second["id"],
        1,
    )

    # Redeliveries of either message, in any order, change nothing.
    arrive(sidecar, original)
    arrive(sidecar, {**failed(sent), "traceparent": "00-" + "5" * 32 + "-" + "6" * 16 + "-01"})
    arrive(sidecar, {**original, "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    assert [letter["id"] for letter in listed(sidecar)] == [second["id"], first["id"]]

    # The new letter replays (to the same subscriber) and fails in its turn: a third letter, the chain stays readable.
    replay(sidecar, second["id"])
    assert [(topic, event["type"]) for topic, event in sidecar.cloud_events] == [
        ("replays.payments", "order.created")
    ] * 2
    arrive(sidecar, failed(sidecar.cloud_events[-1]))
    third, second_again, first_again = listed(sidecar)
    assert (third["status"], third["replayOf"]) == ("PENDING", second["id"])
    assert (second_again["status"], second_again["failedAgainAs"]) == ("FAILED_AGAIN", third["id"])
    assert first_again["status"] == "FAILED_AGAIN"


def test_a_replay_that_succeeds_leaves_one_replayed_letter(sidecar: FakeSidecar) -> None:
    arrive(sidecar, cloud_event("order.created"))
    [letter] = listed(sidecar)
    replay(sidecar, letter["id"])
    assert [(item["id"], item["status"]) for item in listed(sidecar)] == [(letter["id"], "REPLAYED")]


def test_a_corrected_replay_that_still_fails_is_kept_with_the_corrected_payload(sidecar: FakeSidecar) -> None:
    original = cloud_event("payment.succeeded", envelope(orderID="o-1"))
    arrive(sidecar, original, "orders")
    [first] = listed(sidecar)
    replay(sidecar, first["id"], payload={"orderId": "o-1", "amount": "not a number"})
    [sent] = sidecar.cloud_events
    assert sent[0] == "replays.orders"
    assert sent[1]["data"]["payload"] == {"orderId": "o-1", "amount": "not a number"}
    arrive(sidecar, failed(sent), "orders")
    second, _ = listed(sidecar)
    assert second["cloudEvent"]["data"]["payload"] == {"orderId": "o-1", "amount": "not a number"}
    assert (second["status"], second["replayOf"]) == ("PENDING", first["id"])


class FailsDuringPublish(FakeSidecar):
    """The subscriber fails the replay so fast that its dead letter arrives before publish returns."""

    async def publish_cloud_event(self, topic: str, cloud_event: dict[str, Any]) -> None:
        await super().publish_cloud_event(topic, cloud_event)
        body = json.dumps(failed((topic, cloud_event))).encode()
        repository = DaprStateDeadLetterRepository(self)
        await service.record_dead_letter(body, dead_letters=repository, subscriber="payments")


def test_a_failure_arriving_while_the_replay_is_published_is_not_lost() -> None:
    sidecar = FailsDuringPublish()
    arrive(sidecar, cloud_event("order.created"))
    [first] = listed(sidecar)
    marked = asyncio.run(
        service.replay_dead_letter(first["id"], dead_letters=DaprStateDeadLetterRepository(sidecar), sidecar=sidecar)
    )
    assert marked.status.value == "REPLAYED"  # what the operator's call saw
    second, old = listed(sidecar)
    assert (second["status"], second["replayOf"], old["status"]) == ("PENDING", first["id"], "FAILED_AGAIN")


def test_subscriber_routes_refuse_what_is_not_an_app_id(sidecar: FakeSidecar) -> None:
    response = client(sidecar).post("/deadletters/Not An App", content=b"{}")
    assert response.json()["statusCode"] in (404, 422)


def test_the_replay_admin_publishes_reaches_the_handler_of_its_original_topic(sidecar: FakeSidecar) -> None:
    seen: list[tuple[str, str]] = []
    payments: Consumer[object] = Consumer("payments")
    for topic in ("order.created", "order.cancelled"):

        async def handle(event: EventEnvelope, services: object, topic: str = topic) -> None:
            seen.append((topic, event.event_id))

        payments.on(topic)(handle)
    original = cloud_event("order.cancelled")
    arrive(sidecar, original)
    replay(sidecar, listed(sidecar)[0]["id"])

    [(topic, sent)] = sidecar.cloud_events
    delivered = {**sent, "topic": topic, "pubsubname": "pubsub"}  # as payments' sidecar hands it over
    assert asyncio.run(payments.deliver(topic, delivered, object())) is Delivery.SUCCESS
    assert seen == [("order.cancelled", original["id"])]


def test_letters_kept_and_replays_sent_are_counted_for_the_metrics_redeliveries_are_not(sidecar: FakeSidecar) -> None:
    topic = f"order.metered{uuid.uuid4().hex[:6]}"

    def kept() -> float:
        return sample("junction_dead_letters_total", subscriber="payments", topic=topic)

    before, replayed = kept(), sample("junction_dead_letter_replays_total", subscriber="payments")
    original = cloud_event(topic)
    arrive(sidecar, original)
    arrive(sidecar, original)  # the broker's redelivery
    assert kept() == before + 1
    [letter] = listed(sidecar)
    replay(sidecar, letter["id"])
    assert sample("junction_dead_letter_replays_total", subscriber="payments") == replayed + 1
    arrive(sidecar, failed(sidecar.cloud_events[-1]))  # the replay failed again: a new letter
    assert kept() == before + 2
