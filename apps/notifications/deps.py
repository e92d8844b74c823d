"""What notifications' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.notifications.storage import InboxRepository
from servicekit.deps import services_of


@dataclass(frozen=True)
class NotificationsServices:
    inboxes: InboxRepository


Services = Annotated[NotificationsServices, Depends(services_of(NotificationsServices))]
