"""Dead letters in admin's Dapr state: one key per letter, an index of ids, one marker per failed event.

deadletter:{id}                             the letter's document
deadletters-list:head, :page:{k}            the letter ids, oldest first, in pages (servicekit.index): an
                                            insert writes one page; the former `deadletters-index` key is
                                            read until the first insert moves it
deadletter-event:[{subscriber}:]{eventId}   {"id", "seen"}: the latest letter of that event (and subscriber),
                                            and the fingerprints of the messages already kept for it

A message whose fingerprint was seen is a broker redelivery and adds nothing. Another message of the same
event while its letter is PENDING adds nothing either (one letter waits per failure). But once the letter
was replayed, a new message is the replay failing again: it becomes a new PENDING letter, and the replayed
one says FAILED_AGAIN, in one transaction with the marker.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apps.admin.deadletters.domain import DeadLetter, DeadLetterStatus, failed_again, fingerprint
from servicekit import SidecarClient
from servicekit.clock import utc_text
from servicekit.conflicts import retry_on_conflict
from servicekit.index import PagedIndex
from servicekit.sidecar import StateOp

INDEX_KEY = "deadletters-list"
LEGACY_INDEX_KEY = "deadletters-index"
# Event ids come from whatever arrived; odd ones (Dapr refuses keys with "||") are hashed into the key.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
SEEN_KEPT = 50
"""Fingerprints a marker remembers; redeliveries of one message come long before that many replays."""


def letter_key(letter_id: str) -> str:
    return f"deadletter:{letter_id}"


def event_key(event_id: str, subscriber: str | None = None) -> str:
    plain = event_id if _PLAIN_ID.fullmatch(event_id) else "sha256-" + hashlib.sha256(event_id.encode()).hexdigest()
    return f"deadletter-event:{plain}" if subscriber is None else f"deadletter-event:{subscriber}:{plain}"


@dataclass(frozen=True)
class StoredLetter:
    letter: DeadLetter
    etag: str | None


class DeadLetterRepository(Protocol):
    async def add(self, letter: DeadLetter) -> str:
        """Store and index a letter; return its id, or the id of the letter that already stands for it."""
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
        "replayedAt": None if letter.replayed_at is None else utc_text(letter.replayed_at),
        "replays": letter.replays,
        "subscriber": letter.subscriber,
        "replayOf": letter.replay_of,
        "failedAgainAs": letter.failed_again_as,
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
        subscriber=document.get("subscriber"),
        replay_of=document.get("replayOf"),
        failed_again_as=document.get("failedAgainAs"),
    )


class DaprStateDeadLetterRepository:
    def __init__(self, sidecar: SidecarClient) -> None:
        self.sidecar = sidecar
        self.index = PagedIndex(sidecar, INDEX_KEY, legacy_key=LEGACY_INDEX_KEY)

    async def add(self, letter: DeadLetter) -> str:
        return await retry_on_conflict(lambda: self._add_once(letter))

    async def _add_once(self, letter: DeadLetter) -> str:
        marker_key = event_key(letter.event_id, letter.subscriber) if letter.event_id else None
        if marker_key is None:  # not a CloudEvent: nothing to recognise it by, keep every one
            await self.sidecar.transact(await self._indexed(letter))
            return letter.id
        seen_now = fingerprint(letter.cloud_event)
        # Read first: after a clash on the marker this finds the winner and stores nothing.
        marker = await self.sidecar.get_state(marker_key)
        if marker is None:
            new_marker = StateOp(marker_key, {"id": letter.id, "seen": [seen_now]}, insert_only=True)
            await self.sidecar.transact([*await self._indexed(letter), new_marker])
            return letter.id
        latest_id, seen = str(marker.value["id"]), list(marker.value.get("seen", []))
        latest = await self.get(latest_id)
        if seen_now in seen or latest is None or latest.letter.status is DeadLetterStatus.PENDING:
            return latest_id
        previous, arrived = failed_again(latest.letter, letter)
        marker_value = {"id": arrived.id, "seen": [*seen, seen_now][-SEEN_KEPT:]}
        await self.sidecar.transact(
            [
                *await self._indexed(arrived),
                StateOp(marker_key, marker_value, etag=marker.etag),
                StateOp(letter_key(previous.id), to_document(previous), etag=latest.etag),
            ]
        )
        return arrived.id

    async def _indexed(self, letter: DeadLetter) -> list[StateOp]:
        """The operations that insert a letter and append it to the index."""
        return [
            StateOp(letter_key(letter.id), to_document(letter), insert_only=True),
            *await self.index.append(letter.id),
        ]

    async def get(self, letter_id: str) -> StoredLetter | None:
        item = await self.sidecar.get_state(letter_key(letter_id))
        return None if item is None else StoredLetter(from_document(item.value), item.etag)

    async def replace(self, stored: StoredLetter, letter: DeadLetter) -> None:
        await self.sidecar.transact([StateOp(letter_key(letter.id), to_document(letter), etag=stored.etag)])

    async def page(self, *, limit: int, offset: int) -> tuple[list[DeadLetter], int]:
        found = await self.index.slice(offset=offset, limit=limit, newest_first=True)
        items = await asyncio.gather(*(self.sidecar.get_state(letter_key(i)) for i in found.ids))
        return [from_document(item.value) for item in items if item is not None], found.total
