"""`GET /api/v1/admin/traces`: admins only, ids checked before Jaeger is asked, and Jaeger's absence is a 503.

Jaeger is faked at the HTTP level (httpx's MockTransport), so the real adapter and its query are under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from apps.gateway.main import jaeger_store
from apps.gateway.settings import GatewaySettings
from apps.gateway.traces import JaegerTraceStore, NoTraceStore, TraceStore
from tests.unit.gateway.helpers import TOKENS, bearer, gateway_app, services
from tests.unit.gateway.test_traces_domain import TRACE_ID, jaeger_trace, span

Handler = Callable[[httpx.Request], httpx.Response]
ADMIN = bearer("admin")
REQUEST_ID = "req-1234"


class FakeJaeger:
    """A Jaeger query service that holds one trace and nothing else, and records what it was asked."""

    def __init__(self, trace: dict[str, object]) -> None:
        self.trace = trace
        self.asked: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request)
        if request.url.path == f"/api/traces/{TRACE_ID}":
            return httpx.Response(200, json={"data": [self.trace], "errors": None})
        if request.url.path.startswith("/api/traces/"):
            return httpx.Response(404, json={"data": None, "errors": [{"code": 404, "msg": "trace not found"}]})
        tags = json.loads(request.url.params["tags"])
        found = [self.trace] if tags == {"junction.request_id": REQUEST_ID} else []
        return httpx.Response(200, json={"data": found, "errors": None})


@contextmanager
def client_for(traces: TraceStore) -> Iterator[TestClient]:
    with TestClient(gateway_app(services(tokens=TOKENS, traces=traces))) as client:
        yield client


def store(handler: Handler) -> JaegerTraceStore:
    transport = httpx.MockTransport(handler)
    return JaegerTraceStore(httpx.AsyncClient(transport=transport, base_url="http://jaeger"), service="gateway")


ORDER = jaeger_trace(
    span("a", "p1", operation="POST /api/v1/orders", junction__request_id=REQUEST_ID, http__user_agent="curl"),
    span("b", "p2", start=2_000, parent="a"),
)


@pytest.fixture
def jaeger() -> FakeJaeger:
    return FakeJaeger(ORDER)


@pytest.fixture
def client(jaeger: FakeJaeger) -> Iterator[TestClient]:
    with client_for(store(jaeger)) as test_client:
        yield test_client


def test_an_admin_reads_a_trace_by_its_id(client: TestClient) -> None:
    answer = client.get(f"/api/v1/admin/traces/{TRACE_ID.upper()}", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert (data["traceId"], data["services"], data["truncated"]) == (TRACE_ID, ["gateway", "orders"], False)
    first, second = data["spans"]
    assert first == {
        "spanId": "a",
        "parentId": None,
        "service": "gateway",
        "operation": "POST /api/v1/orders",
        "kind": None,
        "startMs": 0.0,
        "durationMs": 1.0,
        "error": False,
        "tags": {},  # neither the request id nor the user agent
    }
    assert (second["parentId"], second["startMs"]) == ("a", 2.0)


def test_an_admin_finds_a_trace_by_its_request_id(client: TestClient, jaeger: FakeJaeger) -> None:
    answer = client.get("/api/v1/admin/traces", params={"requestId": REQUEST_ID}, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["traceId"] == TRACE_ID
    (search,) = jaeger.asked
    assert search.url.params["service"] == "gateway"


def test_unknown_ids_are_404(client: TestClient) -> None:
    for path, params in ((f"/api/v1/admin/traces/{'f' * 32}", {}), ("/api/v1/admin/traces", {"requestId": "other"})):
        answer = client.get(path, params=params, headers=ADMIN)
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "TRACE_NOT_FOUND"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/admin/traces/abc", {}),
        (f"/api/v1/admin/traces/{'g' * 32}", {}),
        (f"/api/v1/admin/traces/{'a' * 33}", {}),
        ("/api/v1/admin/traces", {}),
        ("/api/v1/admin/traces", {"requestId": "has space"}),
        ("/api/v1/admin/traces", {"requestId": "x" * 129}),
        ("/api/v1/admin/traces", {"requestId": '{"junction.request_id": 1}'}),
    ],
)
def test_bad_ids_are_refused_before_jaeger_is_asked(
    client: TestClient, jaeger: FakeJaeger, path: str, params: dict[str, str]
) -> None:
    answer = client.get(path, params=params, headers=ADMIN)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    assert jaeger.asked == []


def test_only_admins_read_traces(client: TestClient, jaeger: FakeJaeger) -> None:
    path = f"/api/v1/admin/traces/{TRACE_ID}"
    assert client.get(path).json()["error"]["code"] == "AUTH_REQUIRED"
    assert client.get(path).status_code == 401
    refused = client.get(path, headers=bearer("customer"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "ADMIN_ONLY")
    assert jaeger.asked == []


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def slow(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def broken(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, text="internal error")


def not_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html>placeholder</html>")


def not_jaeger(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": {"items": []}})


@pytest.mark.parametrize("handler", [down, slow, broken, not_json, not_jaeger])
def test_a_jaeger_down_slow_or_broken_is_503(handler: Handler) -> None:
    with client_for(store(handler)) as client:
        answer = client.get(f"/api/v1/admin/traces/{TRACE_ID}", headers=ADMIN)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "TRACES_UNAVAILABLE"
        assert "connection refused" not in answer.text


def test_no_trace_backend_is_503() -> None:
    with client_for(NoTraceStore()) as client:
        answer = client.get("/api/v1/admin/traces", params={"requestId": REQUEST_ID}, headers=ADMIN)
        assert (answer.status_code, answer.json()["error"]["code"]) == (503, "TRACES_UNAVAILABLE")
        assert client.get("/api/v1/admin/traces/abc", headers=ADMIN).status_code == 422  # checked first


def test_the_trace_backend_is_the_one_trace_query_url_names() -> None:
    assert jaeger_store(GatewaySettings(trace_query_url="")) is None  # TRACE_QUERY_URL= is unset
    built = jaeger_store(GatewaySettings(trace_query_url="http://127.0.0.1:16686/", trace_query_timeout_seconds=1.5))
    assert built is not None and built.service == "gateway"
