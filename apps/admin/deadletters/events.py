"""The dead-letter subscription: take anything that arrives and keep it.

A servicekit Consumer would parse an envelope and DROP what it cannot read; here the unreadable is
the whole point, so this route stores the raw body and never drops. Its subscription declares no
dead-letter topic of its own: a dead letter that cannot be stored is retried, never forwarded.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from apps.admin.deadletters import service
from apps.admin.deps import Services
from servicekit import Delivery, JunctionError
from servicekit.consumer import DEAD_LETTER_TOPIC

ROUTE = "/deadletters"

log = logging.getLogger("apps.admin.deadletters")
router = APIRouter(tags=["events"])


def subscriptions(pubsub: str) -> list[dict[str, str]]:
    return [{"pubsubname": pubsub, "topic": DEAD_LETTER_TOPIC, "route": ROUTE}]


@router.post(ROUTE)
async def receive(request: Request, services: Services) -> dict[str, str]:
    """Store the dead letter; ask Dapr to retry only when it could not be stored."""
    try:
        letter_id = await service.record_dead_letter(await request.body(), dead_letters=services.dead_letters)
    except JunctionError as exc:
        log.warning("dead letter not stored, Dapr will redeliver it: %s %s", exc.code, exc.message)
        return {"status": Delivery.RETRY.value}
    except Exception:
        log.exception("dead letter not stored, Dapr will redeliver it")
        return {"status": Delivery.RETRY.value}
    log.info("dead letter stored as %s", letter_id)
    return {"status": Delivery.SUCCESS.value}
