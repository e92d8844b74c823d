"""Event envelopes carried as CloudEvent `data`, and the answers a subscriber gives Dapr."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from servicekit.context import current_request_id
from servicekit.tracing import current_traceparent


class EventEnvelope(BaseModel):
    """What every Junction event carries: its id, schema version, time, request id, trace and payload."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    event_id: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    request_id: str | None = None
    traceparent: str | None = Field(None, exclude_if=lambda value: value is None)
    """The trace the event was staged in (W3C), so its publish and deliveries join that trace."""
    payload: dict[str, Any]


def new_event(payload: dict[str, Any], *, schema_version: int = 1) -> EventEnvelope:
    """Start an event for the current request."""
    return EventEnvelope(
        event_id=uuid.uuid4().hex,
        schema_version=schema_version,
        occurred_at=datetime.now(UTC),
        request_id=current_request_id(),
        traceparent=current_traceparent(),
        payload=payload,
    )


class Delivery(StrEnum):
    """Dapr's subscriber answers: applied, try again later, or send to the dead-letter topic."""

    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    DROP = "DROP"


class UnreadableEvent(Exception):
    """The CloudEvent has no envelope this consumer can read; it is dropped, never retried."""


def read_envelope(cloud_event: dict[str, Any], *, known_versions: frozenset[int]) -> EventEnvelope:
    """Parse a CloudEvent's data as an envelope of a version the consumer knows."""
    data = cloud_event.get("data")
    try:
        envelope = EventEnvelope.model_validate(data)
    except ValidationError as exc:
        raise UnreadableEvent(f"not an event envelope: {exc.error_count()} problems") from exc
    if envelope.schema_version not in known_versions:
        raise UnreadableEvent(f"unknown schemaVersion {envelope.schema_version}")
    return envelope
