"""`GET /api/v1/admin/events/stream` through the real gateway app (every middleware of the edge), on a hub
fed by its event route: who may open it and how many one user may, the SSE framing, the missed count, the
heartbeat, the topic filter, and the stream's end when the client leaves, its token expires or the gateway
stops (a stream asked for after the stop is refused).

A stream never ends by itself, and the TestClient and httpx's ASGI transport both wait for a response's end,
so the streams here are driven as the server drives them: ASGI messages in, ASGI messages out.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from apps.gateway.feed import FeedHub, FeedItem, missed_frame, sse_frame
from apps.gateway.main import create_app
from apps.gateway.settings import GatewaySettings
from servicekit import new_event, serve
from servicekit.tokens import TokenCodec
from tests.unit.gateway.helpers import TOKENS, bearer, services

pytestmark = pytest.mark.anyio
PATH = "/api/v1/admin/events/stream"
APP_TOKEN = "gateway-app-token-" + "f" * 16
SIDECAR = {"dapr-api-token": APP_TOKEN}
WAIT_SECONDS = 5


def gateway(hub: FeedHub) -> FastAPI:
    return create_app(
        GatewaySettings(app_api_token=APP_TOKEN), services=dataclasses.replace(services(tokens=TOKENS), feed=hub)
    )


@pytest.fixture
def hub() -> FeedHub:
    return FeedHub(max_clients=2, queue_size=3, heartbeat_seconds=30)


@pytest.fixture
def client(hub: FeedHub) -> Iterator[TestClient]:
    with TestClient(gateway(hub)) as test_client:
        yield test_client


def item(n: int, topic: str = "order.created") -> FeedItem:
    return FeedItem(topic, f"e{n}", "2026-01-01T00:00:00Z", f"r{n}", {"orderId": f"o{n}"})


@dataclasses.dataclass
class Stream:
    """One client's stream as the server sees it: what the app sent, and the client's leaving."""

    sent: list[Message] = dataclasses.field(default_factory=list)
    leave: anyio.Event = dataclasses.field(default_factory=anyio.Event)
    done: anyio.Event = dataclasses.field(default_factory=anyio.Event)
    _more: anyio.Event = dataclasses.field(default_factory=anyio.Event)

    def record(self, message: Message) -> None:
        self.sent.append(message)
        self._more.set()
        self._more = anyio.Event()

    async def next_message(self) -> None:
        await self._more.wait()

    @property
    def start(self) -> Message:
        return self.sent[0]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    def header(self, name: bytes) -> str | None:
        return next((v.decode() for k, v in self.start["headers"] if k == name), None)

    async def until(self, text: bytes) -> bytes:
        """Wait until the body holds `text`; the body then."""
        with anyio.fail_after(WAIT_SECONDS):
            while text not in self.body:
                await self.next_message()
        return self.body


@asynccontextmanager
async def stream(app: FastAPI, *, headers: dict[str, str], query: str = "") -> AsyncIterator[Stream]:
    """Open the stream as uvicorn would (ASGI 2.3: the app listens for the disconnect); leave on exit."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    opened = Stream()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await opened.leave.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        opened.record(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        finally:
            opened.done.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run)
        with anyio.fail_after(WAIT_SECONDS):
            while not opened.sent:
                await opened.next_message()
        yield opened
        opened.leave.set()
        with anyio.fail_after(WAIT_SECONDS):
            await opened.done.wait()


def frames(body: bytes) -> list[dict[str, str]]:
    """The SSE blocks of a body, each as its fields; a comment block as {": ": text}."""
    blocks = []
    for block in body.decode().split("\n\n"):
        if not block:
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            fields[name or ": "] = value.removeprefix(" ")
        blocks.append(fields)
    return blocks


# ---- who may open it ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "AUTH_REQUIRED"),
        (bearer(), 403, "ADMIN_ONLY"),
        (bearer("admin") | {"Authorization": "Bearer x"}, 401, "INVALID_TOKEN"),
    ],
)
def test_only_an_admin_may_open_the_feed(client: TestClient, headers: dict[str, str], status: int, code: str) -> None:
    refused = client.get(PATH, headers=headers)
    assert refused.status_code == status and refused.json()["error"]["code"] == code
    assert refused.headers["content-type"] == "application/json"


@pytest.mark.parametrize("topics", ["order.shipped", "order.created,deadletters.gateway", "x" * 1001])
def test_a_filter_naming_an_unknown_topic_is_a_422(client: TestClient, topics: str) -> None:
    refused = client.get(PATH, params={"topics": topics}, headers=bearer("admin"))
    assert refused.status_code == 422 and refused.json()["success"] is False


def test_the_feed_is_documented_as_an_event_stream_for_admins(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][PATH]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert "event: expired" in operation["responses"]["200"]["description"]
    assert {"401", "403", "422", "429", "503"} <= set(operation["responses"])
    assert "TOO_MANY_FEED_STREAMS" in operation["responses"]["429"]["description"]
    assert operation["security"] == [{"bearer": ["admin"]}]


async def test_a_client_beyond_the_limit_gets_a_503_envelope(hub: FeedHub) -> None:
    app = gateway(hub)
    admin = bearer("admin")
    async with stream(app, headers=admin), stream(app, headers=admin), stream(app, headers=admin) as third:
        assert third.start["status"] == 503
        assert json.loads(third.body)["error"]["code"] == "EVENT_FEED_FULL"
        assert third.header(b"retry-after") == "5"
    assert not hub.clients


async def test_one_user_may_hold_three_streams_and_a_fourth_is_a_429_envelope() -> None:
    hub = FeedHub(max_clients=10, heartbeat_seconds=30)
    app = gateway(hub)
    ada, bob = bearer("admin", subject="ada"), bearer("admin", subject="bob")
    async with (
        stream(app, headers=ada),
        stream(app, headers=ada),
        stream(app, headers=ada),
        stream(app, headers=ada) as fourth,
        stream(app, headers=bob) as other,
    ):
        assert fourth.start["status"] == 429 and fourth.header(b"retry-after") == "5"
        assert json.loads(fourth.body)["error"]["code"] == "TOO_MANY_FEED_STREAMS"
        assert other.start["status"] == 200, "another user's streams are counted apart"
        assert len(hub.clients) == 4
    assert not hub.clients


# ---- the stream --------------------------------------------------------------------------------
async def test_events_arrive_framed_as_they_are_published_and_leaving_unregisters(hub: FeedHub) -> None:
    app = gateway(hub)
    async with stream(app, headers=bearer("admin") | {"X-Request-ID": "req-feed-1"}) as opened:
        assert opened.start["status"] == 200
        assert (
            opened.header(
                b"content-type",
            )
            == "text/event-stream; charset=utf-8"
        )
        assert opened.header(b"cache-control") == "no-cache" and opened.header(b"x-request-id") == "req-feed-1"
        assert await opened.until(b"retry: 3000\n\n") == b"retry: 3000\n\n"  # nothing buffered: it went out at once
        assert len(hub.clients) == 1
        hub.publish(item(1))
        await opened.until(b"e1")
        hub.publish(item(2, "payment.succeeded"))
        body = await opened.until(b"e2")
        assert frames(body)[1:] == [
            {"id": "e1", "event": "order.created", "data": json.dumps(item(1).as_json(), separators=(",", ":"))},
            {
                "id": "e2",
                "event": "payment.succeeded",
                "data": json.dumps(item(2, "payment.succeeded").as_json(), separators=(",", ":")),
            },
        ]
    assert not hub.clients  # it left: unregistered, and the app returned


async def test_a_client_that_fell_behind_is_told_what_it_missed_before_its_next_items(hub: FeedHub) -> None:
    async with stream(gateway(hub), headers=bearer("admin")) as opened:
        for n in range(1, 6):  # no await between them: the writer does not run, the queue (3) overflows
            hub.publish(item(n))
        body = await opened.until(b"e5")
    events = [(f.get("event"), f.get("id"), f.get("data")) for f in frames(body)[1:]]
    assert events[0] == ("missed", None, '{"missed": 2}')
    assert [e[1] for e in events[1:]] == ["e3", "e4", "e5"]


async def test_a_filtered_stream_gets_only_its_topics(hub: FeedHub) -> None:
    async with stream(gateway(hub), headers=bearer("admin"), query="topics=order.confirmed") as opened:
        hub.publish(item(1))
        hub.publish(item(2, "order.confirmed"))
        body = await opened.until(b"e2")
    assert b"e1" not in body


async def test_a_silent_stream_sends_keep_alive_comments() -> None:
    hub = FeedHub(heartbeat_seconds=0.05)
    async with stream(gateway(hub), headers=bearer("admin")) as opened:
        body = await opened.until(b": keep-alive\n\n: keep-alive\n\n")
    assert frames(body)[1] == {": ": "keep-alive"}


async def test_closing_the_hub_ends_every_stream_after_what_was_queued(hub: FeedHub) -> None:
    async with stream(gateway(hub), headers=bearer("admin")) as opened:
        hub.publish(item(1))
        hub.close()
        with anyio.fail_after(WAIT_SECONDS):
            await opened.done.wait()
        assert b"e1" in opened.body
        assert opened.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_stream_ends_with_an_expired_frame_when_its_token_expires(hub: FeedHub) -> None:
    short_lived = TokenCodec("g" * 32, ttl_seconds=2)  # TOKENS' key: the gateway accepts it, for 1 to 2 s
    token = short_lived.issue(subject="ada", email="a@example.com", role="admin")
    async with stream(gateway(hub), headers={"Authorization": f"Bearer {token}"}) as opened:
        assert opened.start["status"] == 200
        hub.publish(item(1))
        with anyio.fail_after(WAIT_SECONDS):
            await opened.done.wait()  # the client never left: the token's expiry ended it
        assert frames(opened.body)[-1] == {"event": "expired", "data": '{"code": "TOKEN_EXPIRED"}'}
        assert b"e1" in opened.body and opened.sent[-1]["more_body"] is False
        assert not hub.clients


@pytest.fixture
def stop_server(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Ask the server to stop as a SIGTERM does (on a stop state of this test's own)."""
    monkeypatch.setattr(serve, "_stop", serve._StopSignal())
    server = serve._Server(serve.server_config("apps.gateway.main:create_app"))
    return lambda: server.handle_exit(signal.SIGTERM, None)


async def test_a_stop_ends_every_stream_and_refuses_one_asked_for_after_it(
    hub: FeedHub, stop_server: Callable[[], None]
) -> None:
    app = gateway(hub)
    async with app.router.lifespan_context(app):  # where the gateway asks to close its hub on a stop
        async with stream(app, headers=bearer("admin")) as before:
            stop_server()
            with anyio.fail_after(WAIT_SECONDS):
                await before.done.wait()
            assert before.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
        async with stream(app, headers=bearer("admin")) as after:  # a request that was on its way at the signal
            assert after.start["status"] == 503 and json.loads(after.body)["error"]["code"] == "EVENT_FEED_CLOSED"
    assert hub.closed and not hub.clients


async def test_streams_register_nothing_that_could_outlive_them(hub: FeedHub, stop_server: Callable[[], None]) -> None:
    app = gateway(hub)
    async with (
        app.router.lifespan_context(app),
        stream(app, headers=bearer("admin")),
        stream(app, headers=bearer("admin")),
    ):
        assert len(serve._stop._callbacks) == 1  # the gateway's own, once: close the hub
    assert not serve._stop._callbacks


async def test_an_app_that_started_after_the_stop_began_closes_its_hub_at_once(
    hub: FeedHub, stop_server: Callable[[], None]
) -> None:
    stop_server()
    app = gateway(hub)
    async with app.router.lifespan_context(app):
        for _ in range(5):  # what the stop scheduled in this loop runs
            await anyio.lowlevel.checkpoint()
        assert hub.closed


# ---- the deliveries that feed it ----------------------------------------------------------------
def delivery(topic: str, payload: dict[str, Any], *, cloud_type: str | None = None) -> dict[str, Any]:
    event = new_event(payload)
    return {"id": event.event_id, "type": cloud_type or topic, "data": event.model_dump(mode="json", by_alias=True)}


def test_a_delivery_is_a_success_with_nobody_listening(client: TestClient) -> None:
    answer = client.post("/events/order.created", json=delivery("order.created", {"orderId": "o1"}), headers=SIDECAR)
    assert answer.json() == {"status": "SUCCESS"}


def test_a_delivery_reaches_the_connected_clients_whitelisted_and_a_redelivery_does_not(
    client: TestClient, hub: FeedHub
) -> None:
    listening = hub.connect(frozenset({"order.created", "payment.failed"}), lambda: None, subject="admin-1")
    sent = delivery("order.created", {"orderId": "o1", "userId": "u1", "paymentToken": "tok_ok", "items": []})
    for _ in range(2):
        assert client.post("/events/order.created", json=sent, headers=SIDECAR).json() == {"status": "SUCCESS"}
    replay = delivery("payment.failed", {"paymentId": "pay1", "amount": 3.0}, cloud_type="payment.failed")
    assert client.post("/events/replays.gateway", json=replay, headers=SIDECAR).json() == {"status": "SUCCESS"}
    missed, items = listening.take()
    assert missed == 0 and [i.topic for i in items] == ["order.created", "payment.failed"]
    assert items[0].ids == {"orderId": "o1", "userId": "u1", "productIds": []}
    assert items[1].ids == {"paymentId": "pay1"}


def test_a_delivery_to_a_client_that_never_reads_is_a_success_too(client: TestClient, hub: FeedHub) -> None:
    stuck = hub.connect(frozenset({"order.expired"}), lambda: None, subject="admin-1")
    for n in range(10):
        answer = client.post(
            "/events/order.expired", json=delivery("order.expired", {"orderId": f"o{n}"}), headers=SIDECAR
        )
        assert answer.json() == {"status": "SUCCESS"}
    assert stuck.take()[0] == 7


def test_only_the_sidecar_delivers(client: TestClient) -> None:
    answer = client.post("/events/order.created", json=delivery("order.created", {"orderId": "o1"}))
    assert answer.status_code == 401


def test_a_frame_is_three_lines_and_an_id_that_could_break_it_is_left_out() -> None:
    assert sse_frame(item(1)) == (
        b'id: e1\nevent: order.created\ndata: {"type":"order.created","eventId":"e1",'
        b'"occurredAt":"2026-01-01T00:00:00Z","requestId":"r1","ids":{"orderId":"o1"}}\n\n'
    )
    odd = FeedItem("order.created", "e1\ndata: forged", "2026-01-01T00:00:00Z", "r\n1", {})
    frame = sse_frame(odd).decode()
    assert frame.startswith("event: order.created\ndata: {") and frame.count("\n") == 3
    trailing = FeedItem("order.created", "e1\n", "2026-01-01T00:00:00Z", "r1", {})
    assert sse_frame(trailing).startswith(b"event: order.created\n"), "an id ending in a line break is left out too"
    assert missed_frame(7) == b'event: missed\ndata: {"missed": 7}\n\n'
