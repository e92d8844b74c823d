"""The dead-letter subscriptions: take anything that arrives and keep it, with who gave up on it.

A servicekit Consumer would parse an envelope and DROP what it cannot read; here the unreadable is
the whole point, so these routes store the raw body and never drop. Their subscriptions declare no
dead-letter topic of their own: a dead letter that cannot be stored is retried, never forwarded.

Dapr forwards a failed message unchanged, so nothing in it says which subscriber failed. Each
subscriber therefore names its own dead-letter topic, `deadletters.<app-id>`, and the topic it
arrives on tells admin; the shared `deadletters` topic stays for subscribers that do not (yet).
Admin replays a letter on `replays.<app-id>` (servicekit.consumer), never on the event's own topic.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request

from apps.admin.deadletters import service
from apps.admin.deadletters.domain import APP_ID, dead_letter_topic
from apps.admin.deps import Services
from servicekit import Delivery, JunctionError
from servicekit.consumer import DEAD_LETTER_TOPIC, TopicScope, replay_topic_of

ROUTE = "/deadletters"
CONSUMERS = ("orders", "payments", "notifications", "analytics")
"""The apps with a servicekit Consumer: their letters are deliveries they gave up on, replayable to them."""
SUBSCRIBERS = (*CONSUMERS, "admin", "identity", "catalog")
"""The default of `AdminSettings.dead_letter_subscribers`: docs/events.md's consumers and every app whose
outbox sets a poison entry aside to its own `deadletters.<app-id>` (identity and catalog only publish)."""

log = logging.getLogger("apps.admin.deadletters")
router = APIRouter(tags=["events"])


def subscriptions(pubsub: str, subscribers: Sequence[str] = SUBSCRIBERS) -> list[dict[str, str]]:
    """The shared dead-letter topic, then one per subscriber."""
    shared = {"pubsubname": pubsub, "topic": DEAD_LETTER_TOPIC, "route": ROUTE}
    own = [{"pubsubname": pubsub, "topic": dead_letter_topic(app), "route": f"{ROUTE}/{app}"} for app in subscribers]
    return [shared, *own]


def scope(subscribers: Sequence[str] = SUBSCRIBERS, consumers: Sequence[str] = CONSUMERS) -> TopicScope:
    """What admin's dead-letter part subscribes (every dead-letter topic) and publishes (the consumers' replays).

    Only a consumer's letters can be replayed: the others' are outbox entries set aside by their publisher.
    """
    return TopicScope(
        publishes=frozenset(replay_topic_of(app) for app in consumers),
        subscribes=frozenset(s["topic"] for s in subscriptions("pubsub", subscribers)),
    )


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
