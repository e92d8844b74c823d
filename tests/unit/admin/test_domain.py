"""Dead letters as a pure model: whatever arrives is kept; a real envelope with a topic goes back to its subscriber."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apps.admin.deadletters.domain import (
    DeadLetter,
    DeadLetterNotReplayable,
    DeadLetterStatus,
    Replay,
    original_topic,
    parse_body,
    receive,
    replay_target,
    replayed,
)
from servicekit import EventEnvelope
from tests.unit.admin.helpers import cloud_event, envelope

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        (b'{"id": "e-1", "data": {"x": 1}}', {"id": "e-1", "data": {"x": 1}}),
        (b"[1, 2]", [1, 2]),
        (b"null", None),
        (b"not json at all", {"raw": "not json at all"}),
        (b"", {"raw": ""}),
        (b'{"n": NaN}', {"raw": '{"n": NaN}'}),
        (b"\xff\xfe{", {"raw": "\ufffd\ufffd{"}),
    ],
)
def test_body_is_read_as_json_or_kept_as_text(body: bytes, parsed: Any) -> None:
    assert parse_body(body) == parsed


@pytest.mark.parametrize(
    ("event", "topic"),
    [
        ({"type": "order.created", "topic": "order.created"}, "order.created"),
        ({"type": "payment.failed"}, "payment.failed"),
        ({"topic": "payment.failed"}, "payment.failed"),
        ({"type": "com.dapr.event.sent", "topic": "user.registered"}, "user.registered"),
        ({"type": "deadletters", "topic": "deadletters"}, None),
        ({"type": "order.created", "topic": "replays.payments"}, "order.created"),  # a replay that failed again
        ({"type": "com.dapr.event.sent", "topic": "replays.payments"}, None),
        ({"type": "replays.payments"}, None),
        ({"topic": "deadletters.orders"}, None),
        ({"type": "deadletters.orders", "topic": "order.created"}, "order.created"),
        ({"type": "replayed.thing"}, "replayed.thing"),
        ({"type": "", "topic": 7}, None),
        ({"data": {}}, None),
        ([1, 2], None),
        ({"raw": "text"}, None),
    ],
)
def test_original_topic_comes_from_type_then_topic(event: Any, topic: str | None) -> None:
    assert original_topic(event) == topic


def test_received_letter_is_pending_with_its_event_id() -> None:
    event = cloud_event("order.created")
    letter = receive(event, now=NOW)
    assert (letter.original_topic, letter.event_id, letter.cloud_event) == ("order.created", event["id"], event)
    assert (letter.status, letter.replays, letter.replayed_at, letter.received_at) == (
        DeadLetterStatus.PENDING,
        0,
        None,
        NOW,
    )
    assert receive(event, now=NOW).id != letter.id


@pytest.mark.parametrize("event", [{"id": 42, "type": "order.created"}, {"id": ""}, "text", None])
def test_letter_without_a_string_id_has_no_event_id(event: Any) -> None:
    assert receive(event, now=NOW).event_id is None


def letter_of(event: object, subscriber: str | None = "payments") -> DeadLetter:
    """A letter as it arrives on `subscriber`'s own dead-letter topic."""
    return receive(event, now=NOW, subscriber=subscriber)


def test_replay_target_is_the_subscribers_replay_topic_with_the_original_topic_and_envelope() -> None:
    data = envelope(paymentId="p-1")
    replay = replay_target(letter_of(cloud_event("payment.succeeded", data), "orders"))
    assert (replay.topic, replay.original_topic) == ("replays.orders", "payment.succeeded")
    assert replay.event.model_dump(mode="json", by_alias=True) == data


def test_a_replays_cloud_event_names_the_original_topic_as_its_type_and_keeps_the_id() -> None:
    data = envelope(paymentId="p-1")
    replay = Replay("replays.orders", "payment.succeeded", EventEnvelope.model_validate(data))
    sent = replay.cloud_event(now=NOW)
    assert (sent["id"], sent["type"], sent["source"], sent["data"]) == (
        data["eventId"],
        "payment.succeeded",
        "admin",
        data,
    )
    assert sent["time"] == "2026-03-04T05:06:07Z"


def test_a_corrected_payload_replaces_only_the_payload() -> None:
    data = envelope(paymentId="p-1")
    replay = replay_target(letter_of(cloud_event("payment.succeeded", data)), {"paymentId": "p-2"})
    assert (replay.event.event_id, replay.event.payload) == (data["eventId"], {"paymentId": "p-2"})


def test_a_letter_from_the_shared_topic_is_not_replayable_it_names_no_subscriber() -> None:
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(letter_of(cloud_event("payment.succeeded"), None))
    assert (caught.value.status, caught.value.code) == (422, "DEAD_LETTER_NOT_REPLAYABLE")
    assert caught.value.details == {"reason": "NO_SUBSCRIBER"}


def test_an_outbox_entry_its_publisher_set_aside_is_not_replayable() -> None:
    event = cloud_event("payment.succeeded", junctionerror="PUBLISH_REFUSED: The broker refused payment.succeeded.")
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(letter_of(event))
    assert caught.value.details == {"reason": "SET_ASIDE_BY_PUBLISHER"}


def test_an_event_older_than_the_replay_horizon_is_not_replayable() -> None:
    letter = letter_of(cloud_event("payment.succeeded", {**envelope(), "occurredAt": "2026-01-02T03:04:05Z"}))
    replay_target(letter, now=datetime(2026, 1, 9, 3, 4, tzinfo=UTC))  # just inside seven days
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(letter, now=datetime(2026, 1, 9, 3, 5, tzinfo=UTC))
    assert caught.value.details["reason"] == "TOO_OLD"


@pytest.mark.parametrize(
    "event", [{"id": "e-1", "data": envelope()}, {"id": "e-1", "topic": "replays.payments", "data": envelope()}]
)
def test_letter_without_topic_is_not_replayable(event: dict[str, Any]) -> None:
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(letter_of(event))
    assert (caught.value.status, caught.value.code) == (422, "DEAD_LETTER_NOT_REPLAYABLE")
    assert caught.value.details == {"reason": "NO_ORIGINAL_TOPIC"}


@pytest.mark.parametrize("data", [None, "text", {"eventId": "e-1"}, {**envelope(), "schemaVersion": 0}])
def test_letter_whose_data_is_no_envelope_is_not_replayable(data: Any) -> None:
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(letter_of({**cloud_event("order.created"), "data": data}))
    assert caught.value.details["reason"] == "INVALID_ENVELOPE"
    assert caught.value.details["problems"]
    assert all(set(problem) == {"field", "message"} for problem in caught.value.details["problems"])


def test_replayed_counts_every_replay() -> None:
    letter = receive(cloud_event(), now=NOW)
    later = datetime(2026, 3, 5, tzinfo=UTC)
    once = replayed(letter, now=later)
    twice = replayed(once, now=later)
    assert (once.status, once.replays, once.replayed_at) == (DeadLetterStatus.REPLAYED, 1, later)
    assert twice.replays == 2
    assert letter.status is DeadLetterStatus.PENDING
