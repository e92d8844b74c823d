"""Every answer of a service app, success or failure, leaves in the envelope with the request id.

The public gateway answers an error with its real HTTP status. Apps inside the mesh answer a
business refusal (a 4xx other than 429) with HTTP 200 and the real status in `statusCode`, so
Dapr's circuit breakers do not count it; 429 and 5xx keep their real status everywhere.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from servicekit import Conflict, DependencyUnavailable, JunctionError, RateLimited, ValidationFailed, ok
from servicekit.context import accept_request_id, is_request_id
from servicekit.envelope import REFUSAL_STATUS_HEADER
from servicekit.errors import ServiceUnavailable
from servicekit.sidecar import unwrap_envelope
from tests.unit.servicekit.helpers import build_app

router = APIRouter()


class ItemCreate(BaseModel):
    name: str = Field(min_length=1)
    quantity: int


@router.get("/conflict")
async def conflict() -> JSONResponse:
    raise Conflict("That email is taken.", code="EMAIL_TAKEN", details={"field": "email"})


@router.get("/limited")
async def limited() -> JSONResponse:
    raise RateLimited("Slow down.", retry_after=7)


@router.get("/unavailable")
async def unavailable() -> JSONResponse:
    raise DependencyUnavailable("The store is down.", code="STATE_UNAVAILABLE", details={"store": "statestore"})


@router.get("/boom")
async def boom() -> JSONResponse:
    raise RuntimeError("internal detail that must not leak")


@router.post("/items")
async def create_item(body: ItemCreate) -> JSONResponse:
    return ok(body.model_dump(), status=201)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A public app (the gateway's kind): every error leaves with its real HTTP status."""
    with TestClient(build_app([router], public=True), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def internal() -> Iterator[TestClient]:
    """An app inside the mesh (the default): business refusals leave as HTTP 200."""
    with TestClient(build_app([router]), raise_server_exceptions=False) as client:
        yield client


def assert_timestamp(value: str) -> None:
    assert value.endswith("Z")
    assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def test_success_envelope_carries_data_and_request_id(client: TestClient) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    response = client.post("/items", json={"name": "pen", "quantity": 2}, headers={"X-Request-ID": request_id})
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {"name": "pen", "quantity": 2}
    assert body["requestId"] == request_id
    assert_timestamp(body["timestamp"])


def test_junction_error_becomes_error_envelope(client: TestClient) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    response = client.get("/conflict", headers={"X-Request-ID": request_id})
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 409
    assert body["error"] == {"code": "EMAIL_TAKEN", "message": "That email is taken.", "details": {"field": "email"}}
    assert body["requestId"] == request_id
    assert response.headers["x-request-id"] == request_id
    assert_timestamp(body["timestamp"])


def test_rate_limited_error_sets_retry_after_header(client: TestClient) -> None:
    response = client.get("/limited")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert response.json()["error"]["details"] == {"retryAfter": 7}


def test_request_validation_is_422_with_field_details(client: TestClient) -> None:
    response = client.post("/items", json={"name": "", "quantity": "many"})
    assert response.status_code == 422
    body = response.json()
    assert body["statusCode"] == 422
    assert body["error"]["code"] == "VALIDATION_FAILED"
    fields = {detail["field"] for detail in body["error"]["details"]}
    assert fields == {"name", "quantity"}
    assert all(detail["message"] for detail in body["error"]["details"])


def test_missing_field_is_named_in_details(client: TestClient) -> None:
    response = client.post("/items", json={"name": "pen"})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["quantity"]


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/items", content=b'{"name": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400
    assert body["error"]["code"] == "MALFORMED_JSON"
    assert "details" not in body["error"]


def test_unknown_route_is_404_route_not_found(client: TestClient) -> None:
    response = client.get(f"/nowhere/{uuid.uuid4().hex}")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 404
    assert body["error"]["code"] == "ROUTE_NOT_FOUND"


def test_wrong_method_keeps_405(client: TestClient) -> None:
    response = client.delete("/items")
    assert response.status_code == 405
    assert response.json()["statusCode"] == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_unhandled_exception_is_500_envelope_without_internals(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 500
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert "internal detail" not in response.text
    assert_timestamp(body["timestamp"])


def test_safe_request_id_is_echoed(client: TestClient) -> None:
    request_id = f"trace.{uuid.uuid4().hex}:span-1_a"
    response = client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id
    assert response.json()["requestId"] == request_id


@pytest.mark.parametrize("unsafe", ["has spaces in it", "x" * 129, "semi;colon", "<script>"])
def test_unsafe_request_id_is_replaced(client: TestClient, unsafe: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": unsafe})
    replaced = response.headers["x-request-id"]
    assert replaced != unsafe
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert response.json()["requestId"] == replaced


@pytest.mark.parametrize("unsafe", ["req-1\n", "req-1\r\n", "\nreq-1"])
def test_a_request_id_with_a_line_break_is_not_one(unsafe: str) -> None:
    """An event's or a gRPC call's request id is no header: nothing stopped a line break on its way in."""
    assert not is_request_id(unsafe)
    assert re.fullmatch(r"[0-9a-f]{32}", accept_request_id(unsafe))
    assert is_request_id("req-1") and accept_request_id("req-1") == "req-1"


def test_missing_request_id_is_generated_per_request(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert first and second and first != second


def test_request_id_of_exactly_128_chars_is_kept(client: TestClient) -> None:
    request_id = ("a" + uuid.uuid4().hex * 4)[:128]
    assert len(request_id) == 128
    assert client.get("/healthz", headers={"X-Request-ID": request_id}).headers["x-request-id"] == request_id


def assert_refusal_in_a_200(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An internal app's refusal: HTTP 200, and the real status and code only in the envelope."""
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["statusCode"] == status
    assert body["error"]["code"] == code
    assert_timestamp(body["timestamp"])
    return body


def test_internal_app_answers_a_domain_refusal_with_200_and_the_real_status_in_the_envelope(
    internal: TestClient,
) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    response = internal.get("/conflict", headers={"X-Request-ID": request_id})
    body = assert_refusal_in_a_200(response, 409, "EMAIL_TAKEN")
    assert body["error"] == {"code": "EMAIL_TAKEN", "message": "That email is taken.", "details": {"field": "email"}}
    assert body["requestId"] == request_id
    assert response.headers["x-request-id"] == request_id
    assert "retry-after" not in response.headers


def test_internal_app_answers_request_validation_with_200_and_status_422(internal: TestClient) -> None:
    response = internal.post("/items", json={"name": "", "quantity": "many"})
    body = assert_refusal_in_a_200(response, 422, "VALIDATION_FAILED")
    assert {detail["field"] for detail in body["error"]["details"]} == {"name", "quantity"}
    assert all(detail["message"] for detail in body["error"]["details"])


def test_internal_app_answers_malformed_json_with_200_and_status_400(internal: TestClient) -> None:
    response = internal.post("/items", content=b'{"name": ', headers={"content-type": "application/json"})
    body = assert_refusal_in_a_200(response, 400, "MALFORMED_JSON")
    assert "details" not in body["error"]


def test_internal_app_answers_routing_refusals_with_200_and_their_status(internal: TestClient) -> None:
    assert_refusal_in_a_200(internal.get(f"/nowhere/{uuid.uuid4().hex}"), 404, "ROUTE_NOT_FOUND")
    assert_refusal_in_a_200(internal.delete("/items"), 405, "METHOD_NOT_ALLOWED")


def test_internal_app_answers_its_dependency_outage_as_200_with_503_inside(internal: TestClient) -> None:
    # The app is up and answering: only its dependency is down, so no breaker towards the app may count it.
    response = internal.get("/unavailable")
    assert response.status_code == 200
    assert response.headers[REFUSAL_STATUS_HEADER] == "503"
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 503
    assert body["error"] == {
        "code": "STATE_UNAVAILABLE",
        "message": "The store is down.",
        "details": {"store": "statestore"},
    }


def test_internal_app_keeps_429_with_retry_after(internal: TestClient) -> None:
    response = internal.get("/limited")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 429
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["details"] == {"retryAfter": 7}


def test_internal_app_keeps_500_for_a_crash(internal: TestClient) -> None:
    response = internal.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert (body["success"], body["statusCode"], body["error"]["code"]) == (False, 500, "INTERNAL_ERROR")
    assert "internal detail" not in response.text


def test_caller_rebuilds_a_200_refusal_of_an_internal_app_with_its_real_status(internal: TestClient) -> None:
    response = internal.get("/conflict")
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    with pytest.raises(Conflict) as caught:
        unwrap_envelope(response, "unit-test")
    assert (caught.value.status, caught.value.code) == (409, "EMAIL_TAKEN")
    assert caught.value.message == "That email is taken."
    assert caught.value.details == {"field": "email"}


def test_caller_rebuilds_a_200_validation_refusal_with_its_details(internal: TestClient) -> None:
    response = internal.post("/items", json={"name": "pen"})
    assert response.status_code == 200
    with pytest.raises(ValidationFailed) as caught:
        unwrap_envelope(response, "unit-test")
    assert (caught.value.status, caught.value.code) == (422, "VALIDATION_FAILED")
    assert [detail["field"] for detail in caught.value.details] == ["quantity"]


@pytest.mark.parametrize(
    ("path", "kind", "status", "code"),
    [
        ("/unavailable", DependencyUnavailable, 503, "STATE_UNAVAILABLE"),
        ("/limited", RateLimited, 429, "RATE_LIMITED"),
    ],
)
def test_caller_rebuilds_real_status_errors_of_an_internal_app(
    internal: TestClient, path: str, kind: type[JunctionError], status: int, code: str
) -> None:
    response = internal.get(path)
    with pytest.raises(kind) as caught:
        unwrap_envelope(response, "unit-test")
    assert (caught.value.status, caught.value.code) == (status, code)


def test_caller_reads_the_data_of_an_internal_success(internal: TestClient) -> None:
    response = internal.post("/items", json={"name": "pen", "quantity": 2})
    assert response.status_code == 201
    assert unwrap_envelope(response, "unit-test") == {"name": "pen", "quantity": 2}


def test_what_the_sidecar_said_of_an_unreachable_peer_is_logged_and_the_caller_gets_a_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    said = {"errorCode": "ERR_DIRECT_INVOKE", "message": "failed to invoke, id: orders: connection refused"}
    with caplog.at_level("WARNING", logger="servicekit.sidecar"), pytest.raises(ServiceUnavailable) as caught:
        unwrap_envelope(httpx.Response(500, json=said), "orders")
    assert (caught.value.message, caught.value.details) == ("The orders service is unavailable.", {"service": "orders"})
    assert "could not reach orders: HTTP 500" in caplog.text and "connection refused" in caplog.text
