"""What notifications' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.notifications.storage import InboxStore


@dataclass(frozen=True)
class NotificationsServices:
    inboxes: InboxStore


def _services(request: Request) -> NotificationsServices:
    services: NotificationsServices = request.app.state.services
    return services


Services = Annotated[NotificationsServices, Depends(_services)]
