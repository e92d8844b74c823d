"""The live event feed: the platform's events, reduced to their ids, streamed to connected admins.

`domain` decides what an event shows (a whitelist of id fields per topic), `hub` fans items out to
bounded client queues without waiting on anyone, `sse` writes one client's stream. The gateway's event
edge (apps/gateway/events.py) publishes each delivery to the hub; `GET /api/v1/admin/events/stream`
connects a client.
"""

from apps.gateway.feed.domain import FEED_TOPICS, ID_FIELDS, FeedItem, UnknownTopic, feed_item, parse_topics
from apps.gateway.feed.hub import FeedClient, FeedClosed, FeedFull, FeedHub, TooManyFeedStreams
from apps.gateway.feed.sse import EventStream, expired_frame, missed_frame, sse_frame

__all__ = [
    "FEED_TOPICS",
    "ID_FIELDS",
    "EventStream",
    "FeedClient",
    "FeedClosed",
    "FeedFull",
    "FeedHub",
    "FeedItem",
    "TooManyFeedStreams",
    "UnknownTopic",
    "expired_frame",
    "feed_item",
    "missed_frame",
    "parse_topics",
    "sse_frame",
]
