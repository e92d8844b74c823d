"""What the live feed shows of each event: its type, id, time, request id and only the whitelisted ids."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.gateway.feed import FEED_TOPICS, ID_FIELDS, UnknownTopic, feed_item, parse_topics
from servicekit import EventEnvelope

ROOT = Path(__file__).resolve().parents[3]
AT = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
PERSONAL = ("ada@example.com", "Ada Lovelace", "tok_ok", "12.50", "analytical-engine")
"""What a payload may carry that the feed must never show: an email, a name, a card token, an amount."""
PAYLOADS: dict[str, dict[str, Any]] = {
    "user.registered": {"userId": "u1", "email": "ada@example.com", "name": "Ada Lovelace", "role": "customer"},
    "product.stock_changed": {
        "productId": "p1",
        "sku": "SKU-1",
        "stock": 3,
        "reserved": 2,
        "change": -2,
        "reason": "reserved",
        "orderId": "o1",
    },
    "order.created": {
        "orderId": "o1",
        "userId": "u1",
        "total": 12.5,
        "items": [{"productId": "p1", "name": "Tea", "unitPrice": 12.5, "quantity": 1}, {"productId": "p2"}],
        "paymentToken": "tok_ok",
    },
    "order.confirmed": {"orderId": "o1", "userId": "u1", "total": 12.5, "paymentId": "pay1"},
    "order.cancelled": {"orderId": "o1", "userId": "u1", "total": 12.5, "previousStatus": "CONFIRMED", "reason": "x"},
    "order.expired": {"orderId": "o1", "userId": "u1", "total": 12.5},
    "payment.succeeded": {"paymentId": "pay1", "orderId": "o1", "userId": "u1", "amount": 12.5},
    "payment.failed": {"paymentId": "pay1", "orderId": "o1", "userId": "u1", "amount": 12.5, "reason": "NO"},
    "tenant.provisioned": {
        "tenantId": "t1",
        "subdomain": "north-school",
        "name": "Ada Lovelace School",
        "tablesCreated": ["students"],
        "userId": "u9",
    },
    "tenant.provisioning_failed": {
        "tenantId": "t1",
        "subdomain": "north-school",
        "name": "Ada Lovelace School",
        "reason": "analytical-engine",
        "userId": "u9",
    },
}
EXPECTED_IDS: dict[str, dict[str, Any]] = {
    "user.registered": {"userId": "u1"},
    "product.stock_changed": {"productId": "p1", "orderId": "o1"},
    "order.created": {"orderId": "o1", "userId": "u1", "productIds": ["p1", "p2"]},
    "order.confirmed": {"orderId": "o1", "userId": "u1", "paymentId": "pay1"},
    "order.cancelled": {"orderId": "o1", "userId": "u1"},
    "order.expired": {"orderId": "o1", "userId": "u1"},
    "payment.succeeded": {"paymentId": "pay1", "orderId": "o1", "userId": "u1"},
    "payment.failed": {"paymentId": "pay1", "orderId": "o1", "userId": "u1"},
    "tenant.provisioned": {"tenantId": "t1", "subdomain": "north-school", "userId": "u9"},
    "tenant.provisioning_failed": {"tenantId": "t1", "subdomain": "north-school", "userId": "u9"},
}


def event(payload: dict[str, Any], *, event_id: str = "e1", request_id: str | None = "r1") -> EventEnvelope:
    return EventEnvelope(event_id=event_id, schema_version=1, occurred_at=AT, request_id=request_id, payload=payload)


def test_the_feed_carries_exactly_the_business_events_the_owners_publish() -> None:
    """Every owner's topic (the pub/sub's protected topics), no dead letters and no replays."""
    pubsub = yaml.safe_load((ROOT / "components" / "local" / "pubsub.yaml").read_text())
    protected = next(item["value"] for item in pubsub["spec"]["metadata"] if item["name"] == "protectedTopics")
    topics = {name.strip() for name in protected.split(",")}
    owned = {name for name in topics if re.match(r"^(user|product|order|payment|tenant)\.", name)}
    assert set(FEED_TOPICS) == owned == set(PAYLOADS)


@pytest.mark.parametrize("topic", sorted(PAYLOADS))
def test_an_item_shows_the_events_type_id_time_request_and_its_whitelisted_ids_only(topic: str) -> None:
    shown = feed_item(topic, event(PAYLOADS[topic])).as_json()
    assert shown == {
        "type": topic,
        "eventId": "e1",
        "occurredAt": "2026-03-04T05:06:07.123456Z",
        "requestId": "r1",
        "ids": EXPECTED_IDS[topic],
    }
    text = json.dumps(shown)
    assert not [value for value in PERSONAL if value in text]


@pytest.mark.parametrize("topic", sorted(ID_FIELDS))
def test_a_value_that_is_not_an_id_is_left_out_even_in_a_whitelisted_field(topic: str) -> None:
    """An email, a sentence, a number or a nested object placed in an id field by mistake never shows."""
    for value in ("ada@example.com", "two words", 42, {"id": "x"}, "", "x" * 65, None, "o1\n", "o1\r\n"):
        payload = dict.fromkeys(ID_FIELDS[topic], value) | {"items": [{"productId": value}]}
        ids = feed_item(topic, event(payload)).ids
        assert {name: found for name, found in ids.items() if found != []} == {}, (topic, value)


def test_line_ids_ignore_lines_that_are_not_objects_and_stay_bounded() -> None:
    lines = ["p0", None, *({"productId": f"p{n}"} for n in range(80))]
    ids = feed_item("order.created", event({"orderId": "o1", "items": lines})).ids
    assert ids["productIds"] == [f"p{n}" for n in range(50)]
    assert feed_item("order.created", event({"items": "p1"})).ids == {"productIds": []}


def test_an_event_without_request_id_shows_null() -> None:
    assert feed_item("order.expired", event({"orderId": "o1"}, request_id=None)).as_json()["requestId"] is None


@pytest.mark.parametrize(
    ("asked", "topics"),
    [
        (None, set(FEED_TOPICS)),
        ("", set(FEED_TOPICS)),
        (" , ", set(FEED_TOPICS)),
        ("order.created", {"order.created"}),
        ("order.created, order.confirmed,order.created", {"order.created", "order.confirmed"}),
    ],
)
def test_a_topic_filter_names_feed_topics(asked: str | None, topics: set[str]) -> None:
    assert parse_topics(asked) == topics


@pytest.mark.parametrize("asked", ["order.shipped", "order.created,deadletters.gateway", "replays.gateway", "*"])
def test_a_topic_filter_naming_anything_else_is_refused(asked: str) -> None:
    with pytest.raises(UnknownTopic) as refused:
        parse_topics(asked)
    assert refused.value.status == 422 and refused.value.code == "UNKNOWN_TOPIC"
    assert refused.value.details["known"] == list(FEED_TOPICS)
