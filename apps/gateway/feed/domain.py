"""What the live event feed shows of an event, with no I/O: its type, id, time, request id and the ids it concerns.

Nothing else of a payload leaves the gateway: each topic names the id fields it may show (`ID_FIELDS`), and a
value is shown only when it reads as an id. Emails, names, card tokens and amounts are never copied, so a
field added to an event later stays out of the feed until someone adds it here on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from servicekit import EventEnvelope, ValidationFailed
from servicekit.clock import utc_text

ID_FIELDS: Mapping[str, tuple[str, ...]] = {
    "user.registered": ("userId",),
    "product.stock_changed": ("productId", "orderId"),
    "order.created": ("orderId", "userId"),
    "order.confirmed": ("orderId", "userId", "paymentId"),
    "order.cancelled": ("orderId", "userId"),
    "order.expired": ("orderId", "userId"),
    "payment.succeeded": ("paymentId", "orderId", "userId"),
    "payment.failed": ("paymentId", "orderId", "userId"),
    "tenant.provisioned": ("tenantId", "subdomain", "userId"),
    "tenant.provisioning_failed": ("tenantId", "subdomain", "userId"),
}
"""The business events the platform publishes (docs/events.md), and the ids each may show."""
LINE_IDS: Mapping[str, tuple[str, str, str]] = {"order.created": ("productIds", "items", "productId")}
"""Ids inside a list of lines: shown as `productIds`, read from each of `items`' `productId`."""
FEED_TOPICS: tuple[str, ...] = tuple(ID_FIELDS)
MAX_LINE_IDS = 50
"""As many lines as an order may have (the public API's limit)."""
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What an id looks like (uuid hex, a subdomain); an email or a sentence never does."""


class UnknownTopic(ValidationFailed):
    """Raised when a feed's topic filter names a topic the feed does not carry."""

    default_code = "UNKNOWN_TOPIC"


@dataclass(frozen=True)
class FeedItem:
    """One event as the feed shows it."""

    topic: str
    event_id: str
    occurred_at: str
    request_id: str | None
    ids: Mapping[str, str | list[str]]

    def as_json(self) -> dict[str, Any]:
        """The item's SSE `data`."""
        return {
            "type": self.topic,
            "eventId": self.event_id,
            "occurredAt": self.occurred_at,
            "requestId": self.request_id,
            "ids": dict(self.ids),
        }


def feed_item(topic: str, event: EventEnvelope) -> FeedItem:
    """The event as the feed shows it: only the whitelisted ids of its topic."""
    payload = event.payload
    ids: dict[str, str | list[str]] = {
        name: value for name in ID_FIELDS.get(topic, ()) if _is_id(value := payload.get(name))
    }
    if topic in LINE_IDS:
        shown, lines, field = LINE_IDS[topic]
        ids[shown] = _line_ids(payload.get(lines), field)
    return FeedItem(topic, event.event_id, utc_text(event.occurred_at), event.request_id, ids)


def parse_topics(text: str | None) -> frozenset[str]:
    """The topics a client asked for (`a,b`); every feed topic when it asked for none."""
    asked = {name.strip() for name in (text or "").split(",") if name.strip()}
    if not asked:
        return frozenset(FEED_TOPICS)
    unknown = sorted(asked - set(FEED_TOPICS))
    if unknown:
        shown = [name[:64] for name in unknown[:10]]
        raise UnknownTopic("The feed carries no such topic.", details={"unknown": shown, "known": list(FEED_TOPICS)})
    return frozenset(asked)


def _is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(_ID.fullmatch(value))


def _line_ids(lines: object, field: str) -> list[str]:
    if not isinstance(lines, Iterable) or isinstance(lines, str | bytes | Mapping):
        return []
    found = (line.get(field) for line in lines if isinstance(line, Mapping))
    return [value for value in found if _is_id(value)][:MAX_LINE_IDS]
