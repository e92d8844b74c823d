"""Dead-letter use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apps.admin.deadletters.domain import DeadLetter, DeadLetterNotFound, parse_body, receive, replay_target, replayed
from apps.admin.deadletters.storage import DeadLetterRepository
from servicekit import SidecarClient
from servicekit.conflicts import retry_on_conflict


async def record_dead_letter(body: bytes, *, dead_letters: DeadLetterRepository) -> str:
    """Keep whatever arrived on the dead-letter topic; a redelivery of a kept event id adds nothing."""
    letter = receive(parse_body(body), now=datetime.now(UTC))
    return await dead_letters.add(letter)


async def list_dead_letters(
    *, limit: int, offset: int, dead_letters: DeadLetterRepository
) -> tuple[list[DeadLetter], int]:
    return await dead_letters.page(limit=limit, offset=offset)


async def replay_dead_letter(
    letter_id: str,
    *,
    dead_letters: DeadLetterRepository,
    sidecar: SidecarClient,
    corrected_payload: dict[str, Any] | None = None,
) -> DeadLetter:
    """Publish the original envelope (same event id) to its original topic again, then mark it replayed."""
    stored = await dead_letters.get(letter_id)
    if stored is None:
        raise DeadLetterNotFound("No such dead letter.")
    topic, envelope = replay_target(stored.letter, corrected_payload)
    # Consumers that already applied this event id ignore it; the one that failed gets another go.
    await sidecar.publish(topic, envelope)

    async def mark() -> DeadLetter:
        current = await dead_letters.get(letter_id)
        if current is None:
            raise DeadLetterNotFound("No such dead letter.")
        updated = replayed(current.letter, now=datetime.now(UTC))
        await dead_letters.replace(current, updated)
        return updated

    return await retry_on_conflict(mark)
