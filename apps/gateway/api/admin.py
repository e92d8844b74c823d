"""Admin views: the dashboard (degrades per section), the dead letters and the live event feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.gateway.api.params import ADMIN, Limit, Offset, ResourceId
from apps.gateway.deps import AdminOnly, FeedDep, PeersDep
from apps.gateway.feed import FEED_TOPICS, EventStream, parse_topics
from apps.gateway.feed.sse import MEDIA_TYPE
from apps.gateway.peers import sections, segment
from apps.gateway.schemas import (
    Dashboard,
    DeadLetterList,
    DeadLetterRead,
    Envelope,
    ErrorEnvelope,
    ReplayRequest,
    refusals,
)
from servicekit import ok

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[ADMIN])


@router.get("/dashboard", response_model=Envelope[Dashboard], responses=refusals(401, 403))
async def dashboard(_: AdminOnly, peers: PeersDep) -> JSONResponse:
    """Everything an admin looks at first, fetched in parallel; a dead service only blanks its section."""
    apps = peers.apps
    return ok(
        await sections(
            {
                "products": peers.call(apps.catalog, "GET", "/products", params={"limit": 5}),
                "orders": peers.call(apps.orders, "GET", "/orders", params={"limit": 5}),
                "reports": peers.call(apps.analytics, "GET", "/reports/summary"),
                "deadLetters": peers.call(apps.admin, "GET", "/dead-letters", params={"limit": 5}),
            }
        )
    )


@router.get(
    "/dead-letters",
    response_model=Envelope[DeadLetterList],
    responses=refusals(401, 403, 422),
)
async def dead_letters(_: AdminOnly, peers: PeersDep, limit: Limit = 50, offset: Offset = 0) -> JSONResponse:
    params = {"limit": limit, "offset": offset}
    return ok(await peers.call(peers.apps.admin, "GET", "/dead-letters", params=params))


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    response_model=Envelope[DeadLetterRead],
    responses=refusals(400, 401, 403, 404, 409, 413, 422),
)
async def replay(
    dead_letter_id: ResourceId, _: AdminOnly, peers: PeersDep, body: ReplayRequest | None = None
) -> JSONResponse:
    """Send a dead letter back to its topic, optionally with a corrected payload."""
    fix = body.model_dump() if body else None
    return ok(await peers.call(peers.apps.admin, "POST", f"/dead-letters/{segment(dead_letter_id)}/replay", json=fix))


TopicFilter = Annotated[
    str | None,
    Query(max_length=1000, description=f"Comma-separated topics to receive (default: all): {', '.join(FEED_TOPICS)}."),
]


@router.get(
    "/events/stream",
    response_class=EventStream,
    status_code=200,
    responses={
        200: {
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "Server-Sent Events: `id:` the event id, `event:` the topic, `data:` "
            '`{"type", "eventId", "occurredAt", "requestId", "ids"}`; `event: missed` with `{"missed": n}` '
            "when the client's queue overflowed; a `: keep-alive` comment when nothing else was sent for 15 s; "
            '`event: expired` with `{"code": "TOKEN_EXPIRED"}` when the bearer token expires, and the stream ends.',
        },
        **refusals(401, 403, 422),
        429: {
            "model": ErrorEnvelope,
            "description": "`TOO_MANY_FEED_STREAMS`: the token's user already has as many streams open as one may "
            "(FEED_MAX_CLIENTS_PER_SUBJECT, 3); or `RATE_LIMITED`. Retry after `Retry-After` seconds.",
        },
    },
)
async def event_stream(claims: AdminOnly, feed: FeedDep, topics: TopicFilter = None) -> EventStream:
    """The platform's events as they arrive, reduced to their ids, until the token expires; 429 when its user has
    as many streams open as one may, 503 when the feed serves all it may."""
    return EventStream(
        feed,
        parse_topics(topics),
        subject=claims.subject,
        expires_at=claims.expires_at,
        heartbeat_seconds=feed.heartbeat_seconds,
    )
