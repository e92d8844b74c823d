"""Dead letters in admin's Dapr state: one key per letter, an index of ids, one marker per event id.

deadletter:{id}             the letter's document
deadletters-index           {"ids": [...]}, newest last, guarded by its ETag
deadletter-event:{eventId}  {"id"}: written insert-only, so a redelivered dead letter is kept once
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apps.admin.deadletters.domain import DeadLetter, DeadLetterStatus, utc_text
from servicekit import SidecarClient
from servicekit.conflicts import retry_on_conflict
from servicekit.sidecar import StateOp

INDEX_KEY = "deadletters-index"
# Event ids come from whatever arrived; odd ones (Dapr refuses keys with "||") are hashed into the key.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def letter_key(letter_id: str) -> str:
    return f"deadletter:{letter_id}"


def event_key(event_id: str) -> str:
    plain = event_id if _PLAIN_ID.match(event_id) else "sha256-" + hashlib.sha256(event_id.encode()).hexdigest()
    return f"deadletter-event:{plain}"


@dataclass(frozen=True)
class StoredLetter:
    letter: DeadLetter
    etag: str | None


class DeadLetterRepository(Protocol):
    async def add(self, letter: DeadLetter) -> str:
        """Store and index a letter; return its id, or the id already stored for its event id."""
        ...

    async def get(self, letter_id: str) -> StoredLetter | None: ...

    async def replace(self, stored: StoredLetter, letter: DeadLetter) -> None:
        """Write a changed letter; raises Conflict(ETAG_MISMATCH) when it changed meanwhile."""
        ...

    async def page(self, *, limit: int, offset: int) -> tuple[list[DeadLetter], int]:
        """Return letters newest first, and how many there are."""
        ...


def to_document(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "receivedAt": utc_text(letter.received_at),
        "originalTopic": letter.original_topic,
        "eventId": letter.event_id,
        "cloudEvent": letter.cloud_event,
        "status": letter.status.value,
        "replayedAt": utc_text(letter.replayed_at),
        "replays": letter.replays,
    }


def from_document(document: dict[str, Any]) -> DeadLetter:
    replayed_at = document.get("replayedAt")
    return DeadLetter(
        id=document["id"],
        received_at=datetime.fromisoformat(document["receivedAt"]),
        original_topic=document.get("originalTopic"),
        event_id=document.get("eventId"),
        cloud_event=document.get("cloudEvent"),
        status=DeadLetterStatus(document.get("status", DeadLetterStatus.PENDING)),
        replayed_at=datetime.fromisoformat(replayed_at) if replayed_at else None,
        replays=int(document.get("replays", 0)),
    )


class DaprStateDeadLetters:
    def __init__(self, sidecar: SidecarClient) -> None:
        self.sidecar = sidecar

    async def add(self, letter: DeadLetter) -> str:
        return await retry_on_conflict(lambda: self._add_once(letter))

    async def _add_once(self, letter: DeadLetter) -> str:
        marker = event_key(letter.event_id) if letter.event_id else None
        if marker is not None:
            # Read first: after a clash on the marker this finds the winner and stores nothing.
            known = await self.sidecar.get_state(marker)
            if known is not None:
                return str(known.value["id"])
        index = await self.sidecar.get_state(INDEX_KEY)
        ids = list(index.value.get("ids", [])) if index else []
        operations = [
            StateOp(letter_key(letter.id), to_document(letter), insert_only=True),
            StateOp(INDEX_KEY, {"ids": [*ids, letter.id]}, etag=index.etag if index else None, insert_only=not index),
        ]
        if marker is not None:
            operations.append(StateOp(marker, {"id": letter.id}, insert_only=True))
        await self.sidecar.transact(operations)
        return letter.id

    async def get(self, letter_id: str) -> StoredLetter | None:
        item = await self.sidecar.get_state(letter_key(letter_id))
        return None if item is None else StoredLetter(from_document(item.value), item.etag)

    async def replace(self, stored: StoredLetter, letter: DeadLetter) -> None:
        await self.sidecar.transact([StateOp(letter_key(letter.id), to_document(letter), etag=stored.etag)])

    async def page(self, *, limit: int, offset: int) -> tuple[list[DeadLetter], int]:
        index = await self.sidecar.get_state(INDEX_KEY)
        ids: list[str] = list(index.value.get("ids", [])) if index else []
        wanted = list(reversed(ids))[offset : offset + limit]
        items = await asyncio.gather(*(self.sidecar.get_state(letter_key(i)) for i in wanted))
        return [from_document(item.value) for item in items if item is not None], len(ids)
