"""Dead letters: the pure model, its errors and rules. No web, no sidecar."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from servicekit import EventEnvelope, NotFound, ValidationFailed
from servicekit.consumer import DEAD_LETTER_TOPIC

DAPR_DEFAULT_TYPE = "com.dapr.event.sent"
"""The CloudEvent type Dapr sets when a publisher names none; it is not a topic."""


class DeadLetterStatus(StrEnum):
    PENDING = "PENDING"
    REPLAYED = "REPLAYED"


class DeadLetterNotFound(NotFound):
    default_code = "DEAD_LETTER_NOT_FOUND"


class DeadLetterNotReplayable(ValidationFailed):
    default_code = "DEAD_LETTER_NOT_REPLAYABLE"


@dataclass(frozen=True)
class DeadLetter:
    id: str
    received_at: datetime
    original_topic: str | None
    event_id: str | None
    cloud_event: Any
    """The JSON exactly as it arrived, or `{"raw": text}` when it was not JSON."""
    status: DeadLetterStatus = DeadLetterStatus.PENDING
    replayed_at: datetime | None = None
    replays: int = 0


def utc_text(moment: datetime | None) -> str | None:
    """Write a moment the way every Junction timestamp reads: ISO 8601 in UTC with a `Z`."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(body: bytes) -> Any:
    """Read a delivery as JSON; anything else (NaN included, which JSON cannot carry on) is kept as text."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return {"raw": body.decode("utf-8", errors="replace")}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def original_topic(cloud_event: Any) -> str | None:
    """The topic the event was published to: its type (Junction publishers set it), else its `topic`."""
    if not isinstance(cloud_event, dict):
        return None
    for candidate in (_text(cloud_event.get("type")), _text(cloud_event.get("topic"))):
        if candidate is not None and candidate not in (DAPR_DEFAULT_TYPE, DEAD_LETTER_TOPIC):
            return candidate
    return None


def receive(cloud_event: Any, *, now: datetime) -> DeadLetter:
    """Record whatever arrived on the dead-letter topic as a new, pending dead letter."""
    event_id = _text(cloud_event.get("id")) if isinstance(cloud_event, dict) else None
    return DeadLetter(uuid.uuid4().hex, now, original_topic(cloud_event), event_id, cloud_event)


def replay_target(letter: DeadLetter, corrected_payload: dict[str, Any] | None = None) -> tuple[str, EventEnvelope]:
    """Say where the dead letter goes back to and what it carries, or why it cannot go back.

    An operator who fixed the cause in the data itself sends the corrected payload; the event keeps
    its id and version, so a consumer that already applied it still ignores it.
    """
    if letter.original_topic is None:
        raise DeadLetterNotReplayable(
            "The dead letter does not say which topic it came from.", details={"reason": "NO_ORIGINAL_TOPIC"}
        )
    data = letter.cloud_event.get("data") if isinstance(letter.cloud_event, dict) else None
    try:
        envelope = EventEnvelope.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise DeadLetterNotReplayable(
            "The dead letter's data is not an event envelope.",
            details={"reason": "INVALID_ENVELOPE", "problems": problems},
        ) from exc
    if corrected_payload is not None:
        envelope = envelope.model_copy(update={"payload": corrected_payload})
    return letter.original_topic, envelope


def replayed(letter: DeadLetter, *, now: datetime) -> DeadLetter:
    return replace(letter, status=DeadLetterStatus.REPLAYED, replayed_at=now, replays=letter.replays + 1)
