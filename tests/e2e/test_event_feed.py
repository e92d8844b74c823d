"""The live event feed through real sidecars: an admin's stream shows an order's events as they happen, in
order, with ids and no personal data; a customer may not open it, and a bad topic filter is refused; an open
stream outlives the gateway's sidecar and shows, once it is back, what was published while it was down."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from servicekit import new_event
from tests.e2e.conftest import Account
from tests.e2e.test_cached_reads import publish_once_accepted
from tests.e2e.test_identity_flow import assert_error
from tests.e2e.test_order_flow import Json, order_in, place
from tools.stack import Stack

STREAM = "/api/v1/admin/events/stream"
FEED_SECONDS = 45.0
"""How long the reader waits for the order's events; the whole test stays under a minute."""
READ_TIMEOUT = httpx.Timeout(10, read=20)
"""A read waits longer than the feed's keep-alive (15 s), so a quiet stream is not mistaken for a dead one."""


@dataclass(frozen=True)
class Frame:
    """One SSE event as the client reads it."""

    id: str | None
    event: str | None
    data: Json


@dataclass
class FeedReader:
    """Reads an admin's stream in a thread until `enough` says so or FEED_SECONDS pass."""

    url: str
    headers: dict[str, str]
    enough: Callable[[list[Frame]], bool]
    seconds: float = FEED_SECONDS
    """How long it reads at most."""
    frames: list[Frame] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    status: int | None = None
    content_type: str = ""
    error: BaseException | None = None
    opened: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._read, name="feed-reader", daemon=True)
        thread.start()
        assert self.opened.wait(timeout=20), "the stream did not open"
        assert self.error is None, self.error
        return thread

    def _read(self) -> None:
        deadline = time.monotonic() + self.seconds
        try:
            with (
                httpx.Client(timeout=READ_TIMEOUT) as client,
                client.stream("GET", self.url, headers=self.headers) as response,
            ):
                self.status, self.content_type = response.status_code, response.headers.get("content-type", "")
                self.opened.set()
                block: list[str] = []
                for line in response.iter_lines():
                    self.lines.append(line)
                    if line:
                        block.append(line)
                        continue
                    frame, block = _frame(block), []
                    if frame is not None:
                        self.frames.append(frame)
                    if self.enough(self.frames) or time.monotonic() > deadline:
                        return
        except BaseException as exc:  # reported by the test, in its own thread
            self.error = exc
        finally:
            self.opened.set()


def _frame(block: list[str]) -> Frame | None:
    fields = dict(line.split(": ", 1) for line in block if not line.startswith(":") and ": " in line)
    if "data" not in fields:
        return None  # a comment (keep-alive) or the opening `retry:`
    return Frame(fields.get("id"), fields.get("event"), json.loads(fields["data"]))


def concerning(frames: list[Frame], order_id: str) -> list[Frame]:
    return [f for f in frames if f.data.get("ids", {}).get("orderId") == order_id]


def test_an_admin_watches_an_order_go_by_in_order_with_ids_only(
    stack: Stack,
    gateway: httpx.Client,
    account: Account,
    admin_auth: dict[str, str],
    make_product: Callable[..., Json],
) -> None:
    began = time.monotonic()
    product = make_product(stock=5, price=4.0)
    target: dict[str, str] = {}

    def enough(frames: list[Frame]) -> bool:
        seen = {f.event for f in concerning(frames, target.get("order", "-"))}
        return {"order.confirmed", "payment.succeeded"} <= seen

    reader = FeedReader(f"{stack.apps['gateway'].app_url}{STREAM}", admin_auth, enough)
    thread = reader.start()
    assert reader.status == 200 and reader.content_type.startswith("text/event-stream")

    request_id = f"feed-{uuid.uuid4().hex}"
    body = {"items": [{"productId": product["id"], "quantity": 2}], "paymentMethod": {"token": "tok_ok"}}
    placed = gateway.post("/orders", json=body, headers=account.auth | {"X-Request-ID": request_id})
    assert placed.status_code == 201, placed.text
    order_id = target["order"] = placed.json()["data"]["id"]
    order_in(gateway, account, order_id, "CONFIRMED")
    thread.join(timeout=FEED_SECONDS + 10)
    assert not thread.is_alive() and reader.error is None, reader.error

    mine = concerning(reader.frames, order_id)
    topics = [f.event for f in mine]
    assert "order.created" in topics and "order.confirmed" in topics, topics
    assert topics.index("order.created") < topics.index("order.confirmed"), topics
    assert topics.count("order.created") == 1 and topics.count("order.confirmed") == 1, topics
    assert "payment.succeeded" in topics and "product.stock_changed" in topics, topics
    for frame in mine:
        assert frame.id == frame.data["eventId"] and frame.event == frame.data["type"], frame
        assert set(frame.data) == {"type", "eventId", "occurredAt", "requestId", "ids"}, frame
    created = mine[topics.index("order.created")].data
    assert created["requestId"] == request_id  # the request that placed the order, carried by its event
    assert created["ids"] == {"orderId": order_id, "userId": account.user_id, "productIds": [product["id"]]}
    confirmed = mine[topics.index("order.confirmed")].data["ids"]
    assert confirmed["orderId"] == order_id and confirmed["paymentId"]
    text = "\n".join(reader.lines)
    assert account.email not in text and "@" not in text and "tok_ok" not in text
    assert time.monotonic() - began < 60


def test_a_customer_may_not_open_the_feed_and_a_bad_filter_is_refused(
    gateway: httpx.Client, account: Account, admin_auth: dict[str, str]
) -> None:
    assert_error(gateway.get("/admin/events/stream", headers=account.auth), 403, "ADMIN_ONLY")
    assert_error(gateway.get("/admin/events/stream"), 401, "AUTH_REQUIRED")
    refused = gateway.get("/admin/events/stream", params={"topics": "order.created,order.shipped"}, headers=admin_auth)
    assert_error(refused, 422, "UNKNOWN_TOPIC")
    assert refused.json()["error"]["details"]["unknown"] == ["order.shipped"]


def test_a_filtered_stream_gets_only_what_it_asked_for(
    stack: Stack,
    gateway: httpx.Client,
    account: Account,
    admin_auth: dict[str, str],
    make_product: Callable[..., Json],
) -> None:
    product = make_product(stock=5)
    target: dict[str, Any] = {}

    def enough(frames: list[Frame]) -> bool:
        return any(f.data["ids"].get("orderId") == target.get("order") for f in frames)

    url = f"{stack.apps['gateway'].app_url}{STREAM}?topics=order.confirmed"
    reader = FeedReader(url, admin_auth, enough)
    thread = reader.start()
    placed = place(gateway, account, product, 1)
    assert placed.status_code == 201, placed.text
    target["order"] = placed.json()["data"]["id"]
    thread.join(timeout=FEED_SECONDS + 10)
    assert not thread.is_alive() and reader.error is None, reader.error
    assert reader.frames and {f.event for f in reader.frames} == {"order.confirmed"}
    assert [f.event for f in concerning(reader.frames, target["order"])] == ["order.confirmed"], reader.lines


SIDECAR_BACK_SECONDS = 120.0
"""The restart, and the broker handing the gateway's group what it kept (Kafka rebalances the group first)."""


def test_an_open_stream_outlives_the_gateways_sidecar_and_misses_nothing_it_published_meanwhile(
    stack: Stack, admin_auth: dict[str, str]
) -> None:
    product_id = uuid.uuid4().hex
    event = new_event({"productId": product_id, "sku": f"SKU-{product_id[:10]}", "stock": 0, "change": 0})

    def enough(frames: list[Frame]) -> bool:
        return any(f.id == event.event_id for f in frames)

    url = f"{stack.apps['gateway'].app_url}{STREAM}?topics=product.stock_changed"
    reader = FeedReader(url, admin_auth, enough, seconds=SIDECAR_BACK_SECONDS)
    thread = reader.start()
    stack.kill_sidecar("gateway")  # the feed's only way in: its subscription through its own sidecar
    try:
        publish_once_accepted(
            stack, "product.stock_changed", event.event_id, event.model_dump(mode="json", by_alias=True)
        )
        time.sleep(2)
        assert thread.is_alive() and reader.error is None, reader.error  # the stream stays open, only quiet
    finally:
        stack.restart("gateway")
    thread.join(timeout=SIDECAR_BACK_SECONDS + 10)
    assert not thread.is_alive() and reader.error is None, reader.error
    shown = [f for f in reader.frames if f.id == event.event_id]
    assert len(shown) == 1, reader.lines
    assert shown[0].data["ids"] == {"productId": product_id}, shown[0]
