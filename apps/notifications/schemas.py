"""notifications' wire shapes (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime

from apps.notifications.domain import Notification
from servicekit.schemas import Schema


class NotificationRead(Schema):
    id: str
    type: str
    message: str
    created_at: datetime
    order_id: str | None

    @classmethod
    def of(cls, n: Notification) -> NotificationRead:
        return cls(id=n.id, type=n.type, message=n.message, created_at=n.created_at, order_id=n.order_id)


class NotificationList(Schema):
    items: list[NotificationRead]
    total: int
