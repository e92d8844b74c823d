"""One trace per request: the app's server span joins the caller's trace, which goes on with every call,
every staged event and its publish; the error envelope and the logs name it; the public edge trusts none but
its own sidecar's (by its token, not by the path), and its spans record nothing of the client beyond the path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import APIRouter, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import Message, Scope

from servicekit import NotFound
from servicekit.events import new_event
from servicekit.grpc_handling import handling
from servicekit.logs import JsonFormatter
from servicekit.relay import Relay
from servicekit.tracing import (
    REQUEST_ID_ATTRIBUTE,
    UntrustedTraceContext,
    current_trace_id,
    inject_trace,
    tracer,
    valid_traceparent,
)
from tests.unit.fakes import FakeSidecar
from tests.unit.servicekit.helpers import build_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
SIDECAR_TOKEN = "unit-test-app-token-" + "s" * 16
TRACE_HEADERS = {"traceparent": CALLER, "tracestate": "vendor=chosen", "baggage": "userId=ada"}

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(autouse=True)
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider records into memory (it can be set once per process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


router = APIRouter()
seen: dict[str, Any] = {}


@router.get("/missing")
async def missing() -> None:
    seen["trace"] = current_trace_id()
    headers: dict[str, str] = {}
    inject_trace(headers)  # what a call onward through the sidecar carries
    seen["onward"] = headers.get("traceparent")
    seen["event"] = new_event({"thing": 1}).traceparent
    raise NotFound("No such thing.")


@router.post("/events/probe")
async def probe(request: Request) -> dict[str, Any]:
    """Stands for an event route: what arrived of the trace context, and in which trace it runs."""
    seen["trace"] = current_trace_id()
    return {"tracestate": request.headers.get("tracestate"), "baggage": request.headers.get("baggage")}


@router.get("/whoami")
async def whoami(request: Request) -> dict[str, Any]:
    """What the app itself sees of the client, whatever its span was told."""
    client = request.client
    return {
        "client": client.host if client else None,
        "query": dict(request.query_params),
        "userAgent": request.headers.get("user-agent"),
    }


def _call(app_public: bool, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    app = build_app([router], public=app_public, app_api_token=SIDECAR_TOKEN)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50123))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.request(method, url, headers=headers)

    return anyio.run(go)


def _server_span(spans: InMemorySpanExporter) -> ReadableSpan:
    (server,) = [span for span in spans.get_finished_spans() if span.kind == trace.SpanKind.SERVER]
    return server


def _get(app_public: bool, headers: dict[str, str]) -> httpx.Response:
    app = build_app([router], public=app_public)

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            return await client.get("/missing", headers=headers)

    return anyio.run(go)


def test_an_app_in_the_mesh_joins_its_callers_trace_and_passes_it_on() -> None:
    seen.clear()
    answer = _get(False, {"traceparent": CALLER})
    assert answer.json()["traceId"] == TRACE_ID
    assert seen["trace"] == TRACE_ID
    assert seen["onward"].split("-")[1] == TRACE_ID
    assert seen["event"].split("-")[1] == TRACE_ID


def test_the_server_span_is_a_child_of_the_callers_and_carries_the_request_id(spans: InMemorySpanExporter) -> None:
    _get(False, {"traceparent": CALLER, "X-Request-ID": "req-42"})
    server = [span for span in spans.get_finished_spans() if span.kind == trace.SpanKind.SERVER]
    assert len(server) == 1
    assert server[0].parent is not None and server[0].parent.span_id == int("00f067aa0ba902b7", 16)
    assert server[0].name == "GET /missing"
    assert (server[0].attributes or {})[REQUEST_ID_ATTRIBUTE] == "req-42"


def test_the_public_edge_starts_a_trace_of_its_own_whatever_the_client_sends() -> None:
    seen.clear()
    answer = _get(True, {"traceparent": CALLER})
    assert answer.status_code == 404
    assert answer.json()["traceId"] == seen["trace"]
    assert seen["trace"] not in (None, TRACE_ID)


def test_the_public_edge_keeps_its_own_sidecars_trace_context(spans: InMemorySpanExporter) -> None:
    seen.clear()
    answer = _call(True, "POST", "/events/probe", TRACE_HEADERS | {"dapr-api-token": SIDECAR_TOKEN})
    assert answer.status_code == 200
    assert answer.json() == {"tracestate": "vendor=chosen", "baggage": "userId=ada"}
    assert seen["trace"] == TRACE_ID
    assert _server_span(spans).parent is not None


@pytest.mark.parametrize("token", [None, "", "guessed", SIDECAR_TOKEN + "x"], ids=["none", "empty", "wrong", "longer"])
def test_the_public_edge_records_a_post_to_an_event_path_in_a_trace_of_its_own_without_the_token(
    spans: InMemorySpanExporter, token: str | None
) -> None:
    """Anyone may post to `/events/…`: the path proves nothing, the sidecar's token does (refused with a 401)."""
    headers = TRACE_HEADERS | ({"dapr-api-token": token} if token is not None else {})
    assert _call(True, "POST", "/events/probe", headers).status_code == 401
    server = _server_span(spans)
    assert server.parent is None
    assert trace.format_trace_id(server.context.trace_id) != TRACE_ID
    assert not server.context.trace_state, "the client's tracestate is gone too"


async def _headers_passed_on(headers: list[tuple[bytes, bytes]], *, sidecar_token: str | None) -> list[bytes]:
    """The header names UntrustedTraceContext passes to the app of a request with `headers`."""
    passed: list[bytes] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        passed.extend(name for name, _ in scope["headers"])

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        return None

    scope = {"type": "http", "path": "/events/order.created", "headers": headers}
    await UntrustedTraceContext(app, sidecar_token=sidecar_token)(scope, receive, send)
    return passed


@pytest.mark.anyio
async def test_tracestate_and_baggage_go_with_the_traceparent_unless_the_sidecar_sent_them() -> None:
    sent = [(name.encode(), value.encode()) for name, value in TRACE_HEADERS.items()] + [(b"x-request-id", b"r1")]
    token = [(b"dapr-api-token", SIDECAR_TOKEN.encode())]
    assert await _headers_passed_on(sent, sidecar_token=SIDECAR_TOKEN) == [b"x-request-id"]
    assert await _headers_passed_on(sent + token, sidecar_token=None) == [b"x-request-id", b"dapr-api-token"]
    kept = await _headers_passed_on(sent + token, sidecar_token=SIDECAR_TOKEN)
    assert kept == [b"traceparent", b"tracestate", b"baggage", b"x-request-id", b"dapr-api-token"]


def test_a_public_requests_span_records_no_client_address_user_agent_or_query(spans: InMemorySpanExporter) -> None:
    headers = {"User-Agent": "AdaBrowser/1.0"}
    answer = _call(True, "GET", "/whoami?email=ada%40example.com", headers)
    seen_by_app = {"client": "203.0.113.7", "query": {"email": "ada@example.com"}, "userAgent": "AdaBrowser/1.0"}
    assert answer.json() == seen_by_app, "the app itself sees the request whole"
    attributes = dict(_server_span(spans).attributes or {})
    recorded = json.dumps(attributes)
    assert "203.0.113.7" not in recorded and "50123" not in recorded and "ada" not in recorded.lower(), attributes
    assert not {"client.address", "client.port", "net.peer.ip", "net.peer.port", "http.user_agent"} & set(attributes)
    assert attributes.get("http.target") == "/whoami"


def test_an_app_in_the_mesh_records_its_callers_address(spans: InMemorySpanExporter) -> None:
    """Its caller is its own sidecar, on loopback: nothing personal, and what tells one sidecar call from another."""
    _call(False, "GET", "/whoami", {"dapr-api-token": SIDECAR_TOKEN})
    assert dict(_server_span(spans).attributes or {}).get("net.peer.ip") == "203.0.113.7"


def test_probes_make_no_span(spans: InMemorySpanExporter) -> None:
    app = build_app([])

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            await client.get("/healthz", headers={"traceparent": CALLER})

    anyio.run(go)
    assert spans.get_finished_spans() == ()


def test_a_log_line_names_the_trace() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello", None, None)
    with tracer.start_as_current_span("work") as span:
        line = json.loads(JsonFormatter("unit-test").format(record))
    assert line["traceId"] == trace.format_trace_id(span.get_span_context().trace_id)
    assert json.loads(JsonFormatter("unit-test").format(record))["traceId"] is None


class _OneShotRelay(Relay):
    outbox = "test"

    async def relay_pass(self, *, kicked: bool) -> None:  # pragma: no cover - never started here
        return None


class _TracingSidecar(FakeSidecar):
    def __init__(self) -> None:
        super().__init__()
        self.trace_at_publish: list[str | None] = []

    async def publish(self, topic: str, event: Any) -> None:
        self.trace_at_publish.append(current_trace_id())
        await super().publish(topic, event)


@pytest.mark.anyio
async def test_the_relay_publishes_in_the_trace_the_event_was_staged_in(spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("request") as request:
        event = new_event({"orderId": "o-1"})
    sidecar = _TracingSidecar()
    relay = _OneShotRelay(sidecar=sidecar, interval_seconds=1, name="relay")
    await relay.publish("order.placed", event)  # long after the request, outside any span
    staged_in = trace.format_trace_id(request.get_span_context().trace_id)
    assert sidecar.trace_at_publish == [staged_in]
    producer: list[ReadableSpan] = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.PRODUCER]
    assert [span.name for span in producer] == ["publish order.placed"]


@pytest.mark.anyio
async def test_an_event_staged_outside_any_trace_is_published_without_one() -> None:
    event = new_event({"orderId": "o-1"})
    assert event.traceparent is None
    sidecar = _TracingSidecar()
    await _OneShotRelay(sidecar=sidecar, interval_seconds=1, name="relay").publish("order.placed", event)
    assert sidecar.trace_at_publish == [None]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        f"01-{TRACE_ID}-00f067aa0ba902b7-01",
        f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01",
        f"{CALLER}\n",
    ],
)
def test_only_a_w3c_traceparent_is_taken_from_an_event(value: str) -> None:
    assert valid_traceparent(value) is None
    assert valid_traceparent(CALLER) == CALLER


class _Context:
    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.metadata = metadata

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self.metadata


@pytest.mark.anyio
async def test_a_grpc_call_is_served_in_its_callers_trace(spans: InMemorySpanExporter) -> None:
    async with handling(_Context([("traceparent", CALLER)]), "pkg.Service/Method"):  # type: ignore[arg-type]
        inside = current_trace_id()
    assert inside == TRACE_ID
    (span,) = spans.get_finished_spans()
    assert span.name == "pkg.Service/Method" and span.kind == trace.SpanKind.SERVER
