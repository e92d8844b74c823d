"""One `GET /dapr/subscribe` for the whole app, merged from every part that subscribes to topics.

Dapr asks an app once for its programmatic subscriptions, so admin's parts (the raw dead-letter
route, any servicekit Consumer) each contribute a source and the composition root serves the union.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from fastapi import APIRouter
from fastapi.routing import APIRoute

SUBSCRIBE_PATH = "/dapr/subscribe"

Subscription = Mapping[str, str]
SubscriptionSource = Callable[[], Sequence[Subscription]]
"""E.g. `consumer.subscriptions`, or a function listing a hand-written route's subscriptions."""


def merge_subscriptions(sources: Sequence[SubscriptionSource]) -> list[dict[str, str]]:
    """Concatenate the sources' subscriptions; one topic of one pub/sub may be claimed only once."""
    merged: list[dict[str, str]] = []
    claimed: set[tuple[str, str]] = set()
    for source in sources:
        for subscription in source():
            topic = (subscription["pubsubname"], subscription["topic"])
            if topic in claimed:
                raise ValueError(f"topic {topic[1]} of {topic[0]} is subscribed twice")
            claimed.add(topic)
            merged.append(dict(subscription))
    return merged


def subscription_router(*sources: SubscriptionSource) -> APIRouter:
    """Serve the merged subscriptions; sources are read per call, like Dapr reads them once at start."""
    router = APIRouter(tags=["events"])

    @router.get(SUBSCRIBE_PATH)
    async def subscribe() -> list[dict[str, str]]:
        return merge_subscriptions(sources)

    return router


def delivery_routes(consumer_router: APIRouter) -> APIRouter:
    """Keep a Consumer router's delivery routes but not its own `/dapr/subscribe`, which the merge replaces."""
    router = APIRouter()
    router.routes.extend(
        route for route in consumer_router.routes if not (isinstance(route, APIRoute) and route.path == SUBSCRIBE_PATH)
    )
    return router
