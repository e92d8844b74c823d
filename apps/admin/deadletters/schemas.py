"""Dead letters on the wire (camelCase JSON)."""

from __future__ import annotations

from typing import Any

from apps.admin.deadletters.domain import DeadLetter
from servicekit.clock import utc_text
from servicekit.schemas import Schema


class DeadLetterRead(Schema):
    id: str
    received_at: str
    original_topic: str | None
    event_id: str | None
    status: str
    replays: int
    replayed_at: str | None
    subscriber: str | None
    replay_of: str | None
    failed_again_as: str | None
    cloud_event: Any

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterRead:
        return cls(
            id=letter.id,
            received_at=utc_text(letter.received_at),
            original_topic=letter.original_topic,
            event_id=letter.event_id,
            status=letter.status.value,
            replays=letter.replays,
            replayed_at=None if letter.replayed_at is None else utc_text(letter.replayed_at),
            subscriber=letter.subscriber,
            replay_of=letter.replay_of,
            failed_again_as=letter.failed_again_as,
            cloud_event=letter.cloud_event,
        )


class DeadLetterList(Schema):
    items: list[DeadLetterRead]
    total: int


class ReplayRequest(Schema):
    """Optional: the corrected payload to send instead of the one that failed."""

    payload: dict[str, Any] | None = None
