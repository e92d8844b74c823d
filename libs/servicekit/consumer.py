"""Thin event edges: programmatic subscriptions with dead-letter topics, and Dapr's answers.

A handler receives the parsed envelope and the app's services. What it raises decides the answer:
nothing -> SUCCESS; an unreadable event or a 4xx domain error -> DROP (Dapr moves it to the
dead-letter topic at once); anything else (a dependency down, a crash) -> RETRY (Dapr redelivers
under the inbound resiliency policy, then dead-letters it).

Each subscriber dead-letters to a topic of its own, `deadletters.<app-id>`, so admin's letters say who
gave up on an event (Dapr forwards a failed message unchanged: nothing else in it names the subscriber).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Request

from servicekit.context import request_id_var
from servicekit.errors import JunctionError
from servicekit.events import Delivery, EventEnvelope, UnreadableEvent, read_envelope

S = TypeVar("S")
Handler = Callable[[EventEnvelope, S], Awaitable[None]]
DEAD_LETTER_TOPIC = "deadletters"
"""The shared dead-letter topic, for a consumer that does not name itself."""
_OWN = "<own>"

log = logging.getLogger("servicekit.consumer")


@dataclass(frozen=True)
class _Route(Generic[S]):
    handler: Handler[S]
    versions: frozenset[int]


def dead_letter_topic_of(subscriber: str) -> str:
    """The dead-letter topic of one subscriber's subscriptions."""
    return f"{DEAD_LETTER_TOPIC}.{subscriber}"


class Consumer(Generic[S]):
    """A subscriber's topics and handlers; its dead letters go to `deadletters.<subscriber>` unless told."""

    def __init__(
        self, subscriber: str | None = None, *, pubsub: str = "pubsub", dead_letter_topic: str | None = _OWN
    ) -> None:
        self.subscriber = subscriber
        self.pubsub = pubsub
        if dead_letter_topic == _OWN:
            dead_letter_topic = dead_letter_topic_of(subscriber) if subscriber else DEAD_LETTER_TOPIC
        self.dead_letter_topic = dead_letter_topic
        self.routes: dict[str, _Route[S]] = {}

    def on(self, topic: str, *, versions: frozenset[int] = frozenset({1})) -> Callable[[Handler[S]], Handler[S]]:
        """Register the handler of a topic, for the schema versions it understands."""

        def register(handler: Handler[S]) -> Handler[S]:
            self.routes[topic] = _Route(handler, versions)
            return handler

        return register

    def subscriptions(self) -> list[dict[str, str]]:
        subscriptions = []
        for topic in self.routes:
            entry = {"pubsubname": self.pubsub, "topic": topic, "route": f"/events/{topic}"}
            if self.dead_letter_topic:
                entry["deadLetterTopic"] = self.dead_letter_topic
            subscriptions.append(entry)
        return subscriptions

    async def deliver(self, topic: str, cloud_event: dict[str, Any], services: S) -> Delivery:
        """Run the topic's handler on one CloudEvent and say what Dapr should do with it."""
        route = self.routes.get(topic)
        if route is None:
            return Delivery.DROP
        try:
            envelope = read_envelope(cloud_event, known_versions=route.versions)
        except UnreadableEvent as exc:
            log.warning("dropping unreadable %s event %s: %s", topic, cloud_event.get("id"), exc)
            return Delivery.DROP
        token = request_id_var.set(envelope.request_id)
        try:
            await route.handler(envelope, services)
        except JunctionError as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                log.warning("dropping %s event %s: %s %s", topic, envelope.event_id, exc.code, exc.message)
                return Delivery.DROP
            log.warning("retrying %s event %s later: %s", topic, envelope.event_id, exc.message)
            return Delivery.RETRY
        except Exception:
            log.exception("retrying %s event %s after an unexpected error", topic, envelope.event_id)
            return Delivery.RETRY
        finally:
            request_id_var.reset(token)
        return Delivery.SUCCESS

    def router(self) -> APIRouter:
        """`GET /dapr/subscribe` and `POST /events/{topic}`; services come from `app.state.services`."""
        router = APIRouter(tags=["events"])

        @router.get("/dapr/subscribe")
        async def subscribe() -> list[dict[str, str]]:
            return self.subscriptions()

        @router.post("/events/{topic}")
        async def receive(topic: str, request: Request) -> dict[str, str]:
            try:
                cloud_event = await request.json()
            except ValueError:
                return {"status": Delivery.DROP.value}
            if not isinstance(cloud_event, dict):
                return {"status": Delivery.DROP.value}
            outcome = await self.deliver(topic, cloud_event, request.app.state.services)
            return {"status": outcome.value}

        return router
