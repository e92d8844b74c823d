"""Event envelopes: consumers read only envelopes of a version they know; anything else is unreadable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from servicekit import UnreadableEvent, new_event, read_envelope
from servicekit.context import request_id_var

V1 = frozenset({1})


def cloud_event(data: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "type": "user.registered", "specversion": "1.0", "data": data}


def envelope_data(*, version: int = 1) -> dict[str, Any]:
    return {
        "eventId": uuid.uuid4().hex,
        "schemaVersion": version,
        "occurredAt": "2026-01-02T03:04:05Z",
        "requestId": "req-1",
        "payload": {"userId": "u-1"},
    }


def test_valid_envelope_is_read() -> None:
    data = envelope_data()
    envelope = read_envelope(cloud_event(data), known_versions=V1)
    assert envelope.event_id == data["eventId"]
    assert envelope.schema_version == 1
    assert envelope.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert envelope.request_id == "req-1"
    assert envelope.payload == {"userId": "u-1"}


def test_unknown_schema_version_is_unreadable() -> None:
    with pytest.raises(UnreadableEvent, match="schemaVersion 2"):
        read_envelope(cloud_event(envelope_data(version=2)), known_versions=V1)


def test_version_known_to_the_consumer_is_accepted() -> None:
    envelope = read_envelope(cloud_event(envelope_data(version=2)), known_versions=frozenset({1, 2}))
    assert envelope.schema_version == 2


@pytest.mark.parametrize(
    "data",
    [
        None,
        "garbage",
        ["eventId"],
        {},
        {**envelope_data(), "eventId": ""},
        {**envelope_data(), "schemaVersion": 0},
        {**envelope_data(), "occurredAt": "yesterday"},
        {**envelope_data(), "payload": "not a mapping"},
    ],
)
def test_garbage_is_unreadable(data: Any) -> None:
    with pytest.raises(UnreadableEvent, match="not an event envelope"):
        read_envelope(cloud_event(data), known_versions=V1)


def test_cloud_event_without_data_is_unreadable() -> None:
    with pytest.raises(UnreadableEvent):
        read_envelope({"id": "x", "type": "t"}, known_versions=V1)


def test_new_event_carries_the_current_request_id_and_round_trips() -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    token = request_id_var.set(request_id)
    try:
        event = new_event({"k": "v"}, schema_version=3)
    finally:
        request_id_var.reset(token)
    assert event.request_id == request_id
    assert event.occurred_at.tzinfo is not None
    wire = event.model_dump(mode="json", by_alias=True)
    assert set(wire) == {"eventId", "schemaVersion", "occurredAt", "requestId", "payload"}
    assert read_envelope(cloud_event(wire), known_versions=frozenset({3})) == event


def test_new_events_have_distinct_ids() -> None:
    assert new_event({}).event_id != new_event({}).event_id
