"""Dead letters as a pure model: whatever arrives is kept; only a real envelope with a topic goes back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apps.admin.deadletters.domain import (
    DeadLetterNotReplayable,
    DeadLetterStatus,
    original_topic,
    parse_body,
    receive,
    replay_target,
    replayed,
)
from tests.unit.admin._support import cloud_event, envelope

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


def test_replay_target_is_the_original_topic_and_envelope() -> None:
    data = envelope(paymentId="p-1")
    topic, event = replay_target(receive(cloud_event("payment.succeeded", data), now=NOW))
    assert topic == "payment.succeeded"
    assert event.model_dump(mode="json", by_alias=True) == data


def test_an_event_older_than_the_replay_horizon_is_not_replayable() -> None:
    letter = receive(cloud_event("payment.succeeded", {**envelope(), "occurredAt": "2026-01-02T03:04:05Z"}), now=NOW)
    replay_target(letter, now=datetime(2026, 1, 9, 3, 4, tzinfo=UTC))  # just inside seven days
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(letter, now=datetime(2026, 1, 9, 3, 5, tzinfo=UTC))
    assert caught.value.details["reason"] == "TOO_OLD"


def test_letter_without_topic_is_not_replayable() -> None:
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(receive({"id": "e-1", "data": envelope()}, now=NOW))
    assert (caught.value.status, caught.value.code) == (422, "DEAD_LETTER_NOT_REPLAYABLE")
    assert caught.value.details == {"reason": "NO_ORIGINAL_TOPIC"}


@pytest.mark.parametrize("data", [None, "text", {"eventId": "e-1"}, {**envelope(), "schemaVersion": 0}])
def test_letter_whose_data_is_no_envelope_is_not_replayable(data: Any) -> None:
    with pytest.raises(DeadLetterNotReplayable) as caught:
        replay_target(receive({**cloud_event("order.created"), "data": data}, now=NOW))
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
