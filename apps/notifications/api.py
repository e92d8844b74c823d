"""notifications' internal HTTP edge, reached only through its sidecar; the gateway names the user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.notifications import service
from apps.notifications.deps import Services
from apps.notifications.domain import KEEP_ITEMS
from apps.notifications.schemas import NotificationList, NotificationRead
from servicekit import ok

router = APIRouter(tags=["notifications"])


@router.get("/notifications")
async def list_notifications(
    services: Services,
    user_id: Annotated[str, Query(alias="userId", min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=KEEP_ITEMS)] = 50,
) -> JSONResponse:
    """A user's notifications, newest first."""
    page = await service.list_notifications(user_id, limit=limit, inboxes=services.inboxes)
    body = NotificationList(items=[NotificationRead.of(n) for n in page.items], total=page.total)
    return ok(body.model_dump(mode="json", by_alias=True))
