"""The dead-letter intake: take anything that arrives and keep it, with who gave up on it.

A servicekit Consumer would parse an envelope and DROP what it cannot read; here the unreadable is
the whole point, so these routes store the raw body and never drop. Their subscriptions (declared in
components/common/subscriptions.yaml, like every app's) name no dead-letter topic of their own: a dead
letter that cannot be stored is retried, never forwarded.

Dapr forwards a failed message unchanged, so nothing in it says which subscriber failed. Each
subscriber therefore dead-letters to a topic of its own, `deadletters.<app-id>`, routed here to
`/deadletters/<app-id>`; the shared `deadletters` topic (`/deadletters`) stays for subscribers that do
not name themselves. Admin replays a letter on `replays.<app-id>` (servicekit.consumer), never on the
event's own topic.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request

from apps.admin.deadletters import service
from apps.admin.deadletters.domain import APP_ID
from apps.admin.deps import Services
from servicekit import Delivery, JunctionError

ROUTE = "/deadletters"

log = logging.getLogger("apps.admin.deadletters")
router = APIRouter(tags=["events"])


@router.post(ROUTE)
async def receive(request: Request, services: Services) -> dict[str, str]:
    """A dead letter from a subscriber that did not say who it is."""
    return await _keep(request, services, None)


@router.post(ROUTE + "/{subscriber}")
async def receive_from(
    request: Request, services: Services, subscriber: Annotated[str, Path(pattern=APP_ID.pattern)]
) -> dict[str, str]:
    """A dead letter from `subscriber`'s own dead-letter topic."""
    return await _keep(request, services, subscriber)


async def _keep(request: Request, services: Services, subscriber: str | None) -> dict[str, str]:
    """Store the dead letter; ask Dapr to retry only when it could not be stored."""
    try:
        body = await request.body()
        letter_id = await service.record_dead_letter(body, dead_letters=services.dead_letters, subscriber=subscriber)
    except JunctionError as exc:
        log.warning("dead letter not stored, Dapr will redeliver it: %s %s", exc.code, exc.message)
        return {"status": Delivery.RETRY.value}
    except Exception:
        log.exception("dead letter not stored, Dapr will redeliver it")
        return {"status": Delivery.RETRY.value}
    log.info("dead letter stored as %s", letter_id)
    return {"status": Delivery.SUCCESS.value}
