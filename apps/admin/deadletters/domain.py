"""Dead letters: the pure model, its errors and rules. No web, no sidecar."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from servicekit import EventEnvelope, NotFound, ValidationFailed
from servicekit.clock import as_utc, utc_text
from servicekit.consumer import (
    DEAD_LETTER_TOPIC,
    REPLAY_TOPIC,
    replay_cloud_event,
    replay_topic_of,
)
from servicekit.errors import field_problems
from servicekit.horizons import REPLAY_HORIZON_SECONDS

DAPR_DEFAULT_TYPE = "com.dapr.event.sent"
"""The CloudEvent type Dapr sets when a publisher names none; it is not a topic."""
REPLAY_SOURCE = "admin"
"""The CloudEvent source of a replay."""
SET_ASIDE_FIELD = "junctionerror"
"""Marks an outbox entry its publisher set aside (servicekit.relay): no subscriber ever received it."""
_CARRIERS = (DEAD_LETTER_TOPIC, REPLAY_TOPIC)
"""Topics that carry other topics' events (`deadletters`, `deadletters.<app>`, `replays.<app>`)."""
APP_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PER_DELIVERY = ("traceid", "traceparent", "tracestate")
"""CloudEvent fields a sidecar may set anew on each delivery; they do not make a message another one."""


class DeadLetterStatus(StrEnum):
    PENDING = "PENDING"
    """Waiting for an operator."""
    REPLAYED = "REPLAYED"
    """Sent to its subscriber's replay topic; no failure of that replay has come back (yet)."""
    FAILED_AGAIN = "FAILED_AGAIN"
    """Sent back, and the subscriber failed again: see the letter named by `failed_again_as`."""


class DeadLetterNotFound(NotFound):
    """Raised when no dead letter has the id asked for."""

    default_code = "DEAD_LETTER_NOT_FOUND"


class DeadLetterNotReplayable(ValidationFailed):
    """Raised when a replay asks for a letter that cannot go back; `details.reason` says why."""

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
    subscriber: str | None = None
    """The app id whose subscription failed; None when it arrived on the shared dead-letter topic."""
    replay_of: str | None = None
    """The letter whose replay failed again and became this one."""
    failed_again_as: str | None = None


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


def _carrier(topic: str) -> bool:
    return any(topic == carrier or topic.startswith(carrier + ".") for carrier in _CARRIERS)


def original_topic(cloud_event: Any) -> str | None:
    """The topic the event was published to: its type (Junction publishers set it), else its `topic`.

    A replay's failure arrives with `topic` = `replays.<app>` and keeps its type, the original topic.
    """
    if not isinstance(cloud_event, dict):
        return None
    for candidate in (_text(cloud_event.get("type")), _text(cloud_event.get("topic"))):
        if candidate is not None and candidate != DAPR_DEFAULT_TYPE and not _carrier(candidate):
            return candidate
    return None


def receive(cloud_event: Any, *, now: datetime, subscriber: str | None = None) -> DeadLetter:
    """Record whatever arrived on a dead-letter topic as a new, pending dead letter."""
    event_id = _text(cloud_event.get("id")) if isinstance(cloud_event, dict) else None
    letter = DeadLetter(uuid.uuid4().hex, now, original_topic(cloud_event), event_id, cloud_event)
    return replace(letter, subscriber=subscriber)


def fingerprint(cloud_event: Any) -> str:
    """Name one dead-letter message: a broker's redelivery has the same, a replay's failure another one.

    A replay is published anew (its CloudEvent gets a new `time` and admin as its `source`), so a failure
    of the replay differs from the letter it came from even though it keeps the event id.
    """
    kept = (
        {k: v for k, v in cloud_event.items() if k not in _PER_DELIVERY}
        if isinstance(cloud_event, dict)
        else cloud_event
    )
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def failed_again(replayed_letter: DeadLetter, arrived: DeadLetter) -> tuple[DeadLetter, DeadLetter]:
    """A failure that came back after a replay: the replayed letter points to the new one, and back."""
    return (
        replace(replayed_letter, status=DeadLetterStatus.FAILED_AGAIN, failed_again_as=arrived.id),
        replace(arrived, replay_of=replayed_letter.id),
    )


@dataclass(frozen=True)
class Replay:
    """A dead letter on its way back: to the subscriber that gave up on it, and to none other."""

    topic: str
    """`replays.<subscriber>`: admin may not publish the original topic, which belongs to its owner."""
    original_topic: str
    event: EventEnvelope

    def cloud_event(self, *, now: datetime) -> dict[str, Any]:
        return replay_cloud_event(self.original_topic, self.event, source=REPLAY_SOURCE, now=now)


def _not_replayable(message: str, reason: str, **details: Any) -> DeadLetterNotReplayable:
    return DeadLetterNotReplayable(message, details={"reason": reason, **details})


def replay_target(
    letter: DeadLetter,
    corrected_payload: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
    horizon_seconds: float = REPLAY_HORIZON_SECONDS,
) -> Replay:
    """Say where the dead letter goes back to and what it carries, or why it cannot go back.

    An operator who fixed the cause in the data itself sends the corrected payload; the event keeps
    its id and version, so a consumer that already applied it still ignores it. That holds only while
    consumers remember the id (servicekit.horizons), so an event older than the replay horizon is refused.
    """
    if letter.subscriber is None:
        raise _not_replayable(
            "The dead letter arrived on the shared dead-letter topic: no subscriber is known to send it to.",
            "NO_SUBSCRIBER",
        )
    if isinstance(letter.cloud_event, dict) and SET_ASIDE_FIELD in letter.cloud_event:
        raise _not_replayable(
            "The publisher set this event aside before any subscriber got it; only the publisher may send it.",
            "SET_ASIDE_BY_PUBLISHER",
        )
    if letter.original_topic is None:
        raise _not_replayable("The dead letter does not say which topic it came from.", "NO_ORIGINAL_TOPIC")
    data = letter.cloud_event.get("data") if isinstance(letter.cloud_event, dict) else None
    try:
        envelope = EventEnvelope.model_validate(data)
    except ValidationError as exc:
        raise _not_replayable(
            "The dead letter's data is not an event envelope.",
            "INVALID_ENVELOPE",
            problems=field_problems(exc.errors(include_url=False, include_input=False)),
        ) from exc
    occurred = as_utc(envelope.occurred_at)
    if (now or datetime.now(UTC)) - occurred > timedelta(seconds=horizon_seconds):
        raise _not_replayable(
            "The event is older than the replay horizon; consumers may no longer know they applied it.",
            "TOO_OLD",
            occurredAt=utc_text(occurred),
            horizonSeconds=horizon_seconds,
        )
    if corrected_payload is not None:
        envelope = envelope.model_copy(update={"payload": corrected_payload})
    return Replay(replay_topic_of(letter.subscriber), letter.original_topic, envelope)


def replayed(letter: DeadLetter, *, now: datetime) -> DeadLetter:
    return replace(letter, status=DeadLetterStatus.REPLAYED, replayed_at=now, replays=letter.replays + 1)


def replay_not_sent(letter: DeadLetter, before: DeadLetter) -> DeadLetter:
    """Undo the REPLAYED mark of a replay whose publish failed; a failure that came back meanwhile stays."""
    if letter.status is not DeadLetterStatus.REPLAYED:
        return letter
    return replace(letter, status=before.status, replayed_at=before.replayed_at, replays=before.replays)
