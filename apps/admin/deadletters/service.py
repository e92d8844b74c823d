"""Dead-letter use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apps.admin.deadletters.domain import (
    DeadLetter,
    DeadLetterNotFound,
    parse_body,
    receive,
    replay_not_sent,
    replay_target,
    replayed,
)
from apps.admin.deadletters.storage import DeadLetterRepository, StoredLetter
from servicekit import SidecarClient
from servicekit.conflicts import retry_on_conflict
from servicekit.metrics import DEAD_LETTERS, REPLAYS


async def record_dead_letter(body: bytes, *, dead_letters: DeadLetterRepository, subscriber: str | None = None) -> str:
    """Keep what arrived on a dead-letter topic; a broker's redelivery of a kept message adds nothing."""
    letter = receive(parse_body(body), now=datetime.now(UTC), subscriber=subscriber)
    kept = await dead_letters.add(letter)
    if kept == letter.id:  # not a redelivery of a letter already kept
        DEAD_LETTERS.labels(subscriber or "unknown", letter.original_topic or "unknown").inc()
    return kept


async def list_dead_letters(
    *, limit: int, offset: int, dead_letters: DeadLetterRepository
) -> tuple[list[DeadLetter], int]:
    return await dead_letters.page(limit=limit, offset=offset)


async def _current(letter_id: str, dead_letters: DeadLetterRepository) -> StoredLetter:
    stored = await dead_letters.get(letter_id)
    if stored is None:
        raise DeadLetterNotFound("No such dead letter.")
    return stored


async def replay_dead_letter(
    letter_id: str,
    *,
    dead_letters: DeadLetterRepository,
    sidecar: SidecarClient,
    corrected_payload: dict[str, Any] | None = None,
) -> DeadLetter:
    """Mark a dead letter replayed, then publish its envelope (same event id) to its subscriber's replay topic.

    Only the subscriber that gave up on the event gets it again, on `replays.<subscriber>`: admin may not
    publish the original topic (topic scoping), and the other subscribers have applied the event already.

    Marked first: a subscriber may fail the replay and its new dead letter arrive before the publish call
    even returns; it must find the letter REPLAYED to be kept as a new failure. If the publish fails, the
    mark is taken back.
    """
    replay = replay_target((await _current(letter_id, dead_letters)).letter, corrected_payload)

    async def mark() -> tuple[DeadLetter, DeadLetter]:
        current = await _current(letter_id, dead_letters)
        updated = replayed(current.letter, now=datetime.now(UTC))
        await dead_letters.replace(current, updated)
        return current.letter, updated

    before, marked = await retry_on_conflict(mark)
    try:
        # A subscriber that already applied this event id ignores it; the one that failed gets another go.
        await sidecar.publish_cloud_event(replay.topic, replay.cloud_event(now=datetime.now(UTC)))
    except Exception:

        async def unmark() -> None:
            current = await _current(letter_id, dead_letters)
            await dead_letters.replace(current, replay_not_sent(current.letter, before))

        await retry_on_conflict(unmark)
        raise
    REPLAYS.labels(marked.subscriber or "unknown").inc()
    return marked
