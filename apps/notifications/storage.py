"""notifications' Dapr state: one `notifications:{userId}` document per user, guarded by its ETag.

Each applied event leaves an `applied:{eventId}` marker (servicekit.dedupe) written with the inbox.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apps.notifications.domain import Inbox, Notification
from servicekit.clock import utc_text
from servicekit.conflicts import Turns
from servicekit.dedupe import applied_marker, read_with_marker
from servicekit.sidecar import SidecarClient, StateItem, StateOp


def inbox_key(user_id: str) -> str:
    return f"notifications:{user_id}"


@dataclass(frozen=True)
class StoredInbox:
    inbox: Inbox
    etag: str | None


class InboxRepository(Protocol):
    async def get(self, user_id: str) -> StoredInbox | None: ...

    def turn(self, user_id: str) -> AbstractAsyncContextManager[None]:
        """Held while one delivery of this instance reads and writes the inbox: the others wait their turn."""
        ...

    async def get_with_marker(self, user_id: str, event_id: str) -> tuple[StoredInbox | None, bool]:
        """The user's inbox, and whether the event's marker is there (it was applied within the dedupe horizon)."""
        ...

    async def save(self, user_id: str, inbox: Inbox, etag: str | None, *, event_id: str) -> None:
        """Write with the event's marker, only if nobody wrote since `etag` (no ETag: only a new inbox)."""


def _item(n: Notification) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": n.id,
        "type": n.type,
        "message": n.message,
        "createdAt": utc_text(n.created_at),
        "eventId": n.event_id,
    }
    if n.order_id is not None:
        item["orderId"] = n.order_id
    return item


def to_state(inbox: Inbox) -> dict[str, Any]:
    return {"items": [_item(n) for n in inbox.items], "seen": list(inbox.seen)}


def from_state(value: dict[str, Any]) -> Inbox:
    items = tuple(
        Notification(
            i["id"], i["type"], i["message"], datetime.fromisoformat(i["createdAt"]), i["eventId"], i.get("orderId")
        )
        for i in value.get("items", [])
    )
    return Inbox(items, tuple(value.get("seen", [])))


class DaprStateInboxRepository:
    def __init__(self, sidecar: SidecarClient) -> None:
        self.sidecar = sidecar
        self.turns = Turns()

    def turn(self, user_id: str) -> AbstractAsyncContextManager[None]:
        return self.turns.of(user_id)

    async def get(self, user_id: str) -> StoredInbox | None:
        return _stored(await self.sidecar.get_state(inbox_key(user_id)))

    async def get_with_marker(self, user_id: str, event_id: str) -> tuple[StoredInbox | None, bool]:
        item, applied = await read_with_marker(self.sidecar, inbox_key(user_id), event_id)
        return _stored(item), applied

    async def save(self, user_id: str, inbox: Inbox, etag: str | None, *, event_id: str) -> None:
        op = StateOp(inbox_key(user_id), to_state(inbox), etag=etag, insert_only=etag is None)
        await self.sidecar.transact([op, applied_marker(event_id)])


def _stored(item: StateItem | None) -> StoredInbox | None:
    if item is None or not item.value:
        return None
    return StoredInbox(from_state(item.value), item.etag)
