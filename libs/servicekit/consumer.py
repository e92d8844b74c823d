"""Thin event edges: the delivery routes of declared subscriptions, and Dapr's answers.

What an app subscribes is declared, not coded: components/common/subscriptions.yaml (Dapr Subscription
resources, scoped per app) names each topic, its route `/events/<topic>` here and its dead-letter topic;
daprd reads it from the resources path. A Consumer only registers handlers and answers deliveries.

A handler receives the parsed envelope and the app's services. What it raises decides the answer:
nothing -> SUCCESS; an unreadable event or a 4xx domain error -> DROP (Dapr moves it to the
dead-letter topic at once); anything else (a dependency down, a crash) -> RETRY (Dapr redelivers
under the inbound resiliency policy, then dead-letters it). A handler that returns False found the
event applied before: a duplicate, answered SUCCESS and counted as one (servicekit.metrics).

Each subscriber dead-letters to a topic of its own, `deadletters.<app-id>`, so admin's letters say who
gave up on an event (Dapr forwards a failed message unchanged: nothing else in it names the subscriber).
Admin replays a letter on `replays.<app-id>`, which only that subscriber reads: topic scoping lets only
an event's owner publish its topic. A replay's CloudEvent `type` is the event's original topic (as on
every Junction event), and picks the handler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Request

from servicekit.clock import utc_text
from servicekit.context import SERVED_REQUEST_ID, is_request_id, request_id_var
from servicekit.errors import JunctionError, is_transient
from servicekit.events import Delivery, EventEnvelope, UnreadableEvent, read_envelope
from servicekit.metrics import DELIVERIES

S = TypeVar("S")
Handler = Callable[[EventEnvelope, S], Awaitable[bool | None]]
"""Applies one event; returns False when the event was applied before (a duplicate), else None or True."""
DEAD_LETTER_TOPIC = "deadletters"
"""The shared dead-letter topic, for a subscriber that does not name itself."""
REPLAY_TOPIC = "replays"
"""The prefix of the replay topics; `replays.<app-id>` carries admin's replays to that app alone."""
EVENTS_ROUTE = "/events"
"""Where deliveries arrive: a declared subscription of `topic` routes to `/events/<topic>`."""

log = logging.getLogger("servicekit.consumer")


class Outcome(StrEnum):
    """What became of a delivery: the `outcome` label of junction_event_deliveries_total."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    """Applied before (the handler returned False): changes nothing, answered SUCCESS."""
    RETRY = "retry"
    DROPPED = "dropped"
    """Unreadable or refused for good: Dapr moves it to the dead-letter topic."""

    @property
    def answer(self) -> Delivery:
        """What Dapr is told."""
        return {Outcome.RETRY: Delivery.RETRY, Outcome.DROPPED: Delivery.DROP}.get(self, Delivery.SUCCESS)


@dataclass(frozen=True)
class _Route(Generic[S]):
    handler: Handler[S]
    versions: frozenset[int]


def dead_letter_topic_of(subscriber: str) -> str:
    """The dead-letter topic of one subscriber's subscriptions."""
    return f"{DEAD_LETTER_TOPIC}.{subscriber}"


def route_of(topic: str) -> str:
    """The route a subscription of `topic` must name: the path's last segment picks the handler."""
    return f"{EVENTS_ROUTE}/{topic}"


def replay_topic_of(subscriber: str) -> str:
    """The topic admin replays one subscriber's dead letters on; only that subscriber reads it."""
    return f"{REPLAY_TOPIC}.{subscriber}"


def replay_cloud_event(original_topic: str, event: EventEnvelope, *, source: str, now: datetime) -> dict[str, Any]:
    """A replay as published: the event's own id (dedupe holds), its original topic as `type`.

    `time` is set here to the microsecond: Dapr would set it to the second, and a replay that fails again
    must differ from the previous replay's failure to be kept as a new letter (admin's fingerprint).
    """
    return {
        "specversion": "1.0",
        "id": event.event_id,
        "source": source,
        "type": original_topic,
        "time": utc_text(now),
        "datacontenttype": "application/json",
        "data": event.model_dump(mode="json", by_alias=True),
    }


class Consumer(Generic[S]):
    """A subscriber's handlers by topic; a named consumer also handles the replays on `replays.<subscriber>`.

    Each replay goes to the handler of its `type`. The subscriptions themselves (topics, routes, dead-letter
    topic) are declared in YAML; tests/unit/test_subscriptions.py holds them to `topics()`.
    """

    def __init__(self, subscriber: str | None = None) -> None:
        self.subscriber = subscriber
        self.replay_topic = replay_topic_of(subscriber) if subscriber else None
        self.routes: dict[str, _Route[S]] = {}

    def on(self, topic: str, *, versions: frozenset[int] = frozenset({1})) -> Callable[[Handler[S]], Handler[S]]:
        """Register the handler of a topic, for the schema versions it understands."""

        def register(handler: Handler[S]) -> Handler[S]:
            self.routes[topic] = _Route(handler, versions)
            return handler

        return register

    def topics(self) -> list[str]:
        """Every topic to subscribe: the handlers' topics, then the replay topic (when named and handling any)."""
        replays = [self.replay_topic] if self.replay_topic and self.routes else []
        return [*self.routes, *replays]

    async def deliver(self, topic: str, cloud_event: dict[str, Any], services: S) -> Delivery:
        """Run the topic's handler on one CloudEvent and say what Dapr should do with it."""
        if topic == self.replay_topic:
            original = cloud_event.get("type")
            if not isinstance(original, str) or original not in self.routes:
                log.warning("dropping replay %s of unknown topic %r", cloud_event.get("id"), original)
                DELIVERIES.labels(topic, Outcome.DROPPED).inc()
                return Delivery.DROP
            topic = original
        route = self.routes.get(topic)
        if route is None:
            DELIVERIES.labels("unknown", Outcome.DROPPED).inc()  # no topic it subscribes: one label for any path
            return Delivery.DROP
        outcome = await self._apply(topic, route, cloud_event, services)
        DELIVERIES.labels(topic, outcome).inc()
        return outcome.answer

    async def _apply(self, topic: str, route: _Route[S], cloud_event: dict[str, Any], services: S) -> Outcome:
        try:
            envelope = read_envelope(cloud_event, known_versions=route.versions)
        except UnreadableEvent as exc:
            log.warning("dropping unreadable %s event %s: %s", topic, cloud_event.get("id"), exc)
            return Outcome.DROPPED
        token = request_id_var.set(envelope.request_id)
        try:
            applied = await route.handler(envelope, services)
        except JunctionError as exc:
            if not is_transient(exc):  # a refusal: the same event would be refused again
                log.warning("dropping %s event %s: %s %s", topic, envelope.event_id, exc.code, exc.message)
                return Outcome.DROPPED
            log.warning("retrying %s event %s later: %s", topic, envelope.event_id, exc.message)
            return Outcome.RETRY
        except Exception:
            log.exception("retrying %s event %s after an unexpected error", topic, envelope.event_id)
            return Outcome.RETRY
        finally:
            request_id_var.reset(token)
        return Outcome.DUPLICATE if applied is False else Outcome.APPLIED

    def router(self) -> APIRouter:
        """`POST /events/{topic}`, the delivery route; services come from `app.state.services`.

        Only the app's own sidecar calls it, so no app's OpenAPI shows it (the public gateway's least of all);
        the events themselves are documented in docs/events.md.
        """
        router = APIRouter(tags=["events"])

        @router.post(EVENTS_ROUTE + "/{topic}", include_in_schema=False)
        async def receive(topic: str, request: Request) -> dict[str, str]:
            try:
                cloud_event = await request.json()
            except ValueError:
                return {"status": Delivery.DROP.value}
            if not isinstance(cloud_event, dict):
                return {"status": Delivery.DROP.value}
            data = cloud_event.get("data")
            staged_by = data.get("requestId") if isinstance(data, dict) else None
            if is_request_id(staged_by):  # the access line joins the request that staged the event
                request.scope.setdefault("state", {})[SERVED_REQUEST_ID] = staged_by
            outcome = await self.deliver(topic, cloud_event, request.app.state.services)
            return {"status": outcome.value}

        return router
