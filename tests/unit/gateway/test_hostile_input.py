"""Every public route against hostile input: never a 5xx, always the envelope, bad ids refused at the edge.

The gateway runs with its real sidecar client over an httpx MockTransport, so a URL the client would
refuse to build (a NUL, say) fails here exactly as it would in front of a real sidecar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from apps.gateway.main import create_app
from apps.gateway.peers import Peers, check_path, segment
from apps.gateway.settings import GatewaySettings
from apps.gateway.traces import JaegerTraceStore
from servicekit import ValidationFailed
from servicekit.sidecar import DaprSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, bearer, gateway_app, services

ADMIN = bearer("admin", subject="a" * 32)
VALID_ID = "0123456789abcdef0123456789abcdef"

HOSTILE_IDS = [
    "\x00",
    "a\x00b",
    "..",
    ".",
    "a b",
    "ü",
    "😀",
    "x" * 65,
    "x" * 5000,
    "'; DROP TABLE orders; --",
    "%",
    "%00",
    "a?b=1",
    "a#b",
    "<script>",
    "\u202e",
]
HOSTILE_QUERY = ["\x00", "", "-1", "0", "1e309", "9" * 400, "abc", "ü", "NaN", "1.5", "x" * 5000]
HOSTILE_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"1e999",
    b"[" * 5000 + b"]" * 5000,
    b'{"a": NaN}',
    b"\xff\xfe",
    b'{"email": "\xff"}',
    b"1" * 5000,
]


class Recorder:
    """A sidecar stand-in at the HTTP level: records forwarded paths and answers an empty success."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.raw_path.decode())
        if request.url.host == "jaeger":  # the trace view's backend: a trace without spans
            return httpx.Response(200, json={"data": [{"traceID": VALID_ID, "spans": [], "processes": {}}]})
        return httpx.Response(200, json={"success": True, "data": {"items": [], "total": 0}})


class KnownUsers:
    """identity's Users (gRPC) stand-in: every id it is asked for is a customer."""

    async def profile(self, user_id: str) -> dict[str, Any]:
        return {"id": user_id, "email": "ada@example.com", "name": "Ada", "role": "customer"}


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def client(recorder: Recorder) -> Iterator[TestClient]:
    sidecar = DaprSidecar(http_port=1, transport=httpx.MockTransport(recorder))
    jaeger = httpx.AsyncClient(transport=httpx.MockTransport(recorder), base_url="http://jaeger")
    traces = JaegerTraceStore(jaeger, service="gateway")
    app = gateway_app(services(tokens=TOKENS, peers=Peers(sidecar, APPS, (), users=KnownUsers()), traces=traces))
    yield TestClient(app, raise_server_exceptions=False)  # no lifespan: no real sidecar is needed


def public_routes() -> list[tuple[str, str]]:
    """(method, path) of every public route that answers an envelope, as the app's own OpenAPI document lists them.

    An event stream never ends when it is granted: tests/unit/gateway/test_event_stream.py walks its refusals.
    """
    paths: dict[str, dict[str, Any]] = create_app(GatewaySettings()).openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method, operation in operations.items()
        if not is_stream(operation)
    )


def is_stream(operation: dict[str, Any]) -> bool:
    """Whether an operation answers Server-Sent Events."""
    return "text/event-stream" in operation.get("responses", {}).get("200", {}).get("content", {})


ROUTES = public_routes()
WITH_PARAMS = [(m, p) for m, p in ROUTES if "{" in p]


def fill(path: str, value: str) -> str:
    """The path with every parameter set to `value`, percent-encoded (dots too, or the client drops them)."""
    return re.sub(r"\{[^}]+\}", quote(value, safe="").replace(".", "%2E"), path)


def assert_envelope(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("requestId"), str) and body["requestId"]
    assert isinstance(body.get("timestamp"), str)
    if body["success"] is True:
        assert response.status_code < 300 and "data" in body
    else:
        assert body["statusCode"] == response.status_code >= 400
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return body


def test_every_public_route_is_walked() -> None:
    assert len(ROUTES) >= 18 and len(WITH_PARAMS) >= 6


def hostile_path_cases() -> Iterator[Any]:
    for method, path in WITH_PARAMS:
        for value in HOSTILE_IDS:
            yield pytest.param(method, path, value, id=f"{method} {path} {value[:12]!r}")


@pytest.mark.parametrize(("method", "path", "value"), list(hostile_path_cases()))
def test_hostile_path_parameters_are_refused_before_any_peer_call(
    client: TestClient, recorder: Recorder, method: str, path: str, value: str
) -> None:
    before = len(recorder.paths)
    response = client.request(method, fill(path, value), headers=ADMIN, json={})
    body = assert_envelope(response)
    if response.status_code != 404:  # "%2F"-like values change the route itself
        assert (response.status_code, body["success"]) in ((422, False), (400, False)), body
    assert recorder.paths[before:] == []


@pytest.mark.parametrize(("method", "path"), WITH_PARAMS)
def test_a_valid_id_is_forwarded_quoted(client: TestClient, recorder: Recorder, method: str, path: str) -> None:
    response = client.request(method, fill(path, VALID_ID), headers=ADMIN, json={})
    assert_envelope(response)
    assert response.status_code < 400, response.text
    assert any(VALID_ID in forwarded for forwarded in recorder.paths[-2:])


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("value", HOSTILE_QUERY, ids=lambda v: repr(v)[:20])
def test_hostile_query_parameters_never_answer_5xx(client: TestClient, method: str, path: str, value: str) -> None:
    params = {"limit": value, "offset": value, "orderId": value}
    assert_envelope(client.request(method, fill(path, VALID_ID), params=params, headers=ADMIN))


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in ROUTES if m == "POST"])
@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda b: repr(b)[:20])
def test_hostile_bodies_never_answer_5xx(client: TestClient, method: str, path: str, body: bytes) -> None:
    headers = {**ADMIN, "content-type": "application/json"}
    assert_envelope(client.request(method, fill(path, VALID_ID), content=body, headers=headers))


HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    1e308,
    10**30,
    "",
    "\x00",
    "a\x00b",
    "ü" * 300,
    [],
    {},
    [1],
    "x" * 10_000,
]


def field_bodies() -> Iterator[dict[str, Any]]:
    """Each known request field set, in turn, to each hostile value (the rest valid)."""
    bodies: list[dict[str, Any]] = [
        {"email": "ada@example.com", "password": "correct horse", "name": "Ada"},
        {"sku": "SKU-1", "name": "Pen", "price": 1.5, "stock": 3},
        {"items": [{"productId": VALID_ID, "quantity": 1}], "paymentMethod": {"token": "tok_ok"}},
        {"name": "School", "subdomain": "school", "adminEmail": "a@example.com", "adminPassword": "pw"},
        {"payload": {"orderId": VALID_ID}},
    ]
    for valid in bodies:
        for field in valid:
            for value in HOSTILE_VALUES:
                yield {**valid, field: value}


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in ROUTES if m == "POST"])
def test_wrong_types_huge_numbers_and_nul_bytes_in_fields_never_answer_5xx(
    client: TestClient, method: str, path: str
) -> None:
    for body in field_bodies():
        response = client.request(
            method,
            fill(path, VALID_ID),
            content=json.dumps(body),
            headers={**ADMIN, "content-type": "application/json"},
        )
        assert_envelope(response)


def test_the_forwarding_guard_quotes_and_refuses() -> None:
    assert segment("a/b?c#d\x00%") == "a%2Fb%3Fc%23d%00%25"
    assert check_path(f"/orders/{segment('ok-id_1')}/cancel") == "/orders/ok-id_1/cancel"
    for bad in ("/orders/\x00", "/orders/..", "/orders/./x", "/orders/a b", "/orders/ü", "/orders/a?b", "/orders/a\n"):
        with pytest.raises(ValidationFailed):
            check_path(bad)
