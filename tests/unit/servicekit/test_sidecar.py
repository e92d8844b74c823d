"""DaprSidecar's invocation against a fake sidecar (httpx.MockTransport): headers, envelopes, errors.

Pub/sub, state and secrets go through the SDK over gRPC: test_sidecar_sdk.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from servicekit import (
    Conflict,
    DaprSidecar,
    DependencyUnavailable,
    JunctionError,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from servicekit.context import request_id_var
from servicekit.sidecar import unwrap_envelope

T = TypeVar("T")
Handler = Callable[[httpx.Request], httpx.Response]
DAPR_TOKEN = "dapr-token-" + "y" * 16

pytestmark = pytest.mark.anyio


async def run(handler: Handler, call: Callable[[DaprSidecar], Awaitable[T]], *, request_id: str | None = None) -> T:
    """Run one call through a DaprSidecar whose peer is `handler`, inside a request with `request_id`."""
    sidecar = DaprSidecar(http_port=3511, api_token=DAPR_TOKEN, transport=httpx.MockTransport(handler))
    token = request_id_var.set(request_id)
    try:
        return await call(sidecar)
    finally:
        request_id_var.reset(token)
        await sidecar.aclose()


def recording(response: httpx.Response, seen: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return handler


def envelope_error(status: int, code: str, details: Any = None) -> httpx.Response:
    error = {"code": code, "message": f"{code} happened", "details": details}
    return httpx.Response(status, json={"success": False, "error": error, "statusCode": status, "requestId": "r"})


async def test_invoke_routes_through_headers_and_returns_envelope_data() -> None:
    seen: list[httpx.Request] = []
    ok = httpx.Response(201, json={"success": True, "data": {"id": "u-1"}, "requestId": "r", "timestamp": "t"})
    request_id = f"req-{uuid.uuid4().hex}"
    data = await run(
        recording(ok, seen),
        lambda s: s.invoke("identity", "POST", "users", json={"email": "a@example.com"}, params={"q": "1"}),
        request_id=request_id,
    )
    assert data == {"id": "u-1"}
    [request] = seen
    assert request.method == "POST"
    assert (request.url.host, request.url.port, request.url.path) == ("127.0.0.1", 3511, "/users")
    assert request.url.params["q"] == "1"
    assert request.headers["dapr-app-id"] == "identity"
    assert request.headers["x-request-id"] == request_id
    assert request.headers["dapr-api-token"] == DAPR_TOKEN
    assert json.loads(request.content) == {"email": "a@example.com"}


async def test_invoke_outside_a_request_sends_no_request_id() -> None:
    seen: list[httpx.Request] = []
    await run(
        recording(httpx.Response(200, json={"success": True, "data": None}), seen), lambda s: s.invoke("a", "GET", "/x")
    )
    assert "x-request-id" not in seen[0].headers


async def test_invoke_rebuilds_the_peer_error_envelope() -> None:
    response = envelope_error(409, "EMAIL_TAKEN", details={"field": "email"})
    with pytest.raises(Conflict) as caught:
        await run(recording(response, []), lambda s: s.invoke("identity", "POST", "/users", json={}))
    assert caught.value.code == "EMAIL_TAKEN"
    assert caught.value.status == 409
    assert caught.value.message == "EMAIL_TAKEN happened"
    assert caught.value.details == {"field": "email"}


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [(409, Conflict, "OUT_OF_STOCK"), (404, NotFound, "PRODUCT_NOT_FOUND"), (422, ValidationFailed, "INVALID_ITEMS")],
)
async def test_invoke_rebuilds_a_refusal_a_peer_in_the_mesh_answered_with_http_200(
    status: int, kind: type[JunctionError], code: str
) -> None:
    # Apps inside the mesh answer business refusals as HTTP 200; the real status is the envelope's statusCode.
    refusal = envelope_error(status, code, details={"productId": "p-1"})
    response = httpx.Response(200, json=refusal.json())
    with pytest.raises(kind) as caught:
        await run(recording(response, []), lambda s: s.invoke("catalog", "POST", "/reservations", json={}))
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message == f"{code} happened"
    assert caught.value.details == {"productId": "p-1"}


def test_unwrap_envelope_rebuilds_a_200_refusal_with_its_real_status() -> None:
    response = httpx.Response(200, json=envelope_error(409, "EMAIL_TAKEN", details={"field": "email"}).json())
    with pytest.raises(Conflict) as caught:
        unwrap_envelope(response, "identity")
    assert (caught.value.status, caught.value.code, caught.value.details) == (409, "EMAIL_TAKEN", {"field": "email"})


async def test_invoke_rebuilds_rate_limited_with_retry_after() -> None:
    response = envelope_error(429, "RATE_LIMITED", details={"retryAfter": 4})
    with pytest.raises(RateLimited) as caught:
        await run(recording(response, []), lambda s: s.invoke("identity", "GET", "/users/1"))
    assert caught.value.retry_after == 4


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, json={"errorCode": "ERR_DIRECT_INVOKE", "message": "fail to invoke"}),
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(500, json={"success": True, "data": "not an ok status"}),
    ],
)
async def test_anything_but_an_envelope_on_failure_is_service_unavailable(response: httpx.Response) -> None:
    with pytest.raises(DependencyUnavailable) as caught:
        await run(recording(response, []), lambda s: s.invoke("identity", "GET", "/users/1"))
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert caught.value.status == 503
    assert caught.value.details == {"service": "identity"}


async def test_unreachable_sidecar_is_dependency_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(DependencyUnavailable) as caught:
        await run(refuse, lambda s: s.invoke("identity", "GET", "/users/1"))
    assert caught.value.code == "SIDECAR_UNREACHABLE"


async def test_slow_sidecar_is_upstream_timeout() -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    with pytest.raises(DependencyUnavailable) as caught:
        await run(stall, lambda s: s.invoke("identity", "GET", "/users/1"))
    assert caught.value.code == "UPSTREAM_TIMEOUT"
