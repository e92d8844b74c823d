"""A user's inbox: the pure model, its command and the rule that keeps it short. No web, no sidecar.

What each event tells its user, in plain words, is `messages`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from servicekit.dedupe import already_applied

KEEP_ITEMS = 200


@dataclass(frozen=True)
class Notify:
    """Command: tell a user what an event means for them."""

    user_id: str
    topic: str
    message: str
    event_id: str
    occurred_at: datetime
    order_id: str | None = None


@dataclass(frozen=True)
class Notification:
    id: str
    type: str
    message: str
    created_at: datetime
    event_id: str
    order_id: str | None = None


@dataclass(frozen=True)
class Inbox:
    items: tuple[Notification, ...] = ()
    """Newest first."""
    seen: tuple[str, ...] = ()
    """Event ids an inbox remembered before applied-event markers (servicekit.dedupe); never grows now."""

    def receive(self, command: Notify) -> Inbox | None:
        """The inbox with the command's notification in it, or None if that event was applied already."""
        if already_applied(self.seen, command.event_id):
            return None
        notification = Notification(
            uuid.uuid4().hex, command.topic, command.message, command.occurred_at, command.event_id, command.order_id
        )
        # Ordered by when things happened, not by when the broker delivered them; ties go to the newcomer.
        items = sorted((notification, *self.items), key=lambda n: n.created_at, reverse=True)
        return Inbox(tuple(items[:KEEP_ITEMS]), self.seen)
