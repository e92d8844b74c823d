"""notifications' use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

from dataclasses import dataclass

from apps.notifications.domain import Inbox, Notification, Notify
from apps.notifications.storage import InboxRepository
from servicekit.conflicts import retry_on_conflict


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    total: int


async def notify(command: Notify, *, inboxes: InboxRepository) -> bool:
    """Add a notification to its user's inbox once; False when the event was already applied."""

    async def attempt() -> bool:
        stored, applied = await inboxes.get_with_marker(command.user_id, command.event_id)
        if applied:
            return False
        changed = (stored.inbox if stored else Inbox()).receive(command)
        if changed is None:
            return False
        await inboxes.save(command.user_id, changed, stored.etag if stored else None, event_id=command.event_id)
        return True

    async with inboxes.turn(command.user_id):  # this instance's deliveries to the inbox take turns, not clash
        return await retry_on_conflict(attempt)


async def list_notifications(user_id: str, *, limit: int, inboxes: InboxRepository) -> NotificationPage:
    """A user's newest notifications first."""
    stored = await inboxes.get(user_id)
    items = list(stored.inbox.items) if stored else []
    return NotificationPage(items[:limit], len(items))
