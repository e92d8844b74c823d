"""No internal error body reaches a public client: codes and generic messages out, the rest to the log."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from apps.gateway.errors import FAILURE_MESSAGE, REFUSAL_MESSAGE, is_internal, public_error
from apps.gateway.peers import Peers
from servicekit import (
    Conflict,
    DependencyUnavailable,
    JunctionError,
    OperationFailed,
    RateLimited,
    ValidationFailed,
)
from servicekit.logs import JsonFormatter
from servicekit.sidecar import DaprSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, bearer, gateway_client

ADMIN = bearer("admin", subject="a" * 32)
DAPR_INVOKE_ERROR = {
    "errorCode": "ERR_DIRECT_INVOKE",
    "message": "failed to invoke, id: catalog, err: rpc error: code = Unavailable desc = connection error: "
    'desc = "transport: Error while dialing: dial tcp 127.0.0.1:50001: connect: connection refused"',
}
DAPR_STATE_ERROR = {"errorCode": "ERR_STATE_GET", "message": "fail to get key products||p-1 from state store"}
TRACEBACK = 'Traceback (most recent call last):\n  File "/app/x.py", line 3, in <module>\nKeyError: 1'
DRIVER = "OperationalError: (sqlite3.OperationalError) unable to open database file"


def envelope(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"success": False, "error": error, "statusCode": status, "requestId": "r", "timestamp": "t"}


# ---- the mapping ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        DependencyUnavailable("Reading state failed.", code="STATE_UNAVAILABLE", details=DAPR_STATE_ERROR),
        DependencyUnavailable("The identity service is unavailable.", code="SERVICE_UNAVAILABLE", details={"a": 1}),
        DependencyUnavailable(f"The tenant database is not reachable: {DRIVER}", code="DATABASE_UNREACHABLE"),
        DependencyUnavailable(TRACEBACK, code="INTERNAL_ERROR"),
    ],
    ids=["dapr-json", "service-name", "driver", "traceback"],
)
def test_a_failure_keeps_its_code_and_status_only(failure: JunctionError) -> None:
    public = public_error(failure)
    assert (public.status, public.code, public.message, public.details) == (
        503,
        failure.code,
        FAILURE_MESSAGE,
        None,
    )


def test_a_failure_with_a_dapr_code_gets_a_code_of_ours() -> None:
    public = public_error(DependencyUnavailable("x", code="ERR_DIRECT_INVOKE"))
    assert public.code == "SERVICE_UNAVAILABLE" and public.status == 503


def test_an_apps_own_refusal_crosses_unchanged() -> None:
    fields = [{"field": "email", "message": "The email address is not valid."}]
    for refusal in (
        ValidationFailed("The email address is not valid.", code="INVALID_EMAIL", details=fields),
        Conflict("Only 2 of SKU-1 left.", code="OUT_OF_STOCK", details={"productId": "p-1", "available": 2}),
        OperationFailed("The order was not placed.", code="ORDER_NOT_PLACED", details={"reason": "OUT_OF_STOCK"}),
    ):
        assert public_error(refusal) is refusal


def test_a_refusal_loses_what_dapr_or_a_driver_put_in_it() -> None:
    details = {"tenantId": "t-1", "reason": f"running the migrations failed: {DRIVER}", "dapr": DAPR_INVOKE_ERROR}
    refusal = OperationFailed(f"The tenant could not be provisioned: {DRIVER}", code="PROVISIONING_FAILED")
    refusal.details = details
    public = public_error(refusal)
    assert (public.status, public.code, public.message) == (424, "PROVISIONING_FAILED", REFUSAL_MESSAGE)
    assert public.details == {"tenantId": "t-1"}


def test_a_refusal_made_only_of_dapr_details_has_none_left() -> None:
    public = public_error(ValidationFailed("The broker refused x.", code="PUBLISH_REFUSED", details=DAPR_STATE_ERROR))
    assert (public.message, public.details) == ("The broker refused x.", None)
    listed = public_error(ValidationFailed("Bad.", details=[DAPR_STATE_ERROR, {"field": "a", "message": "b"}]))
    assert listed.details == [{"field": "a", "message": "b"}]


def test_a_rate_limit_keeps_its_wait() -> None:
    limited = RateLimited("Too many requests.", retry_after=7)
    assert public_error(limited) is limited
    rebuilt = public_error(RateLimited("rpc error: code = ResourceExhausted", retry_after=7))
    assert isinstance(rebuilt, RateLimited) and rebuilt.retry_after == 7 and rebuilt.message == REFUSAL_MESSAGE


@pytest.mark.parametrize(
    "text",
    [
        "ERR_DIRECT_INVOKE",
        "dial tcp 127.0.0.1:3500: connect: connection refused",
        "rpc error: code = Unknown",
        "daprd is not ready",
        TRACEBACK,
        DRIVER,
        "IntegrityError: UNIQUE constraint failed",
    ],
)
def test_internal_text_is_recognised(text: str) -> None:
    assert is_internal(text)


@pytest.mark.parametrize(
    "text",
    [
        "A product with this SKU already exists.",
        "No such order.",
        "Only 2 of SKU-ERR-1 left.",
        "The email address is not valid.",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_ERROR",
        "Wrong email or password.",
    ],
)
def test_an_apps_own_text_is_not_mistaken_for_internal(text: str) -> None:
    assert not is_internal(text)


# ---- through the gateway, with its real sidecar client over a MockTransport --------------------------
class Lines(logging.Handler):
    """The gateway's JSON log lines, formatted while the request (and its id) is still current."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("gateway"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("gateway.peers")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/orders":  # a bug, not an answer: the gateway itself crashes on it
        raise RuntimeError(f"driver state at crash: {DRIVER}")
    return ANSWERS[request.url.path]


ANSWERS: dict[str, httpx.Response] = {
    # The sidecar's own answer: catalog is gone.
    "/products": httpx.Response(500, json=DAPR_INVOKE_ERROR),
    # orders' envelope (a 503 travels as 200 inside the mesh) relaying its state store's Dapr error.
    "/dead-letters": httpx.Response(
        200, json=envelope(503, "STATE_UNAVAILABLE", "Reading state failed.", DAPR_STATE_ERROR)
    ),
    # identity's own refusal with field errors: its public contract.
    "/users": httpx.Response(
        200,
        json=envelope(
            422, "WEAK_PASSWORD", "Use at least 8 characters.", [{"field": "password", "message": "Too short."}]
        ),
    ),
}


@pytest.fixture
def gateway() -> Iterator[TestClient]:
    sidecar = DaprSidecar(http_port=1, transport=httpx.MockTransport(answer))
    with gateway_client(Peers(sidecar, APPS, ()), TOKENS, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "code", "logged_details"),
    [
        # servicekit's sidecar client keeps only the service's name of a sidecar's own error body.
        ("/api/v1/products", "SERVICE_UNAVAILABLE", {"service": "catalog"}),
        ("/api/v1/admin/dead-letters", "STATE_UNAVAILABLE", DAPR_STATE_ERROR),
    ],
    ids=["sidecar-error", "peer-relaying-dapr"],
)
def test_a_failure_behind_the_gateway_reaches_the_client_without_its_body(
    gateway: TestClient, lines: Lines, path: str, code: str, logged_details: Any
) -> None:
    request_id = f"leak-{uuid.uuid4().hex}"
    response = gateway.get(path, headers={**ADMIN, "X-Request-ID": request_id})
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == {"code": code, "message": FAILURE_MESSAGE}
    assert body["requestId"] == request_id == response.headers["x-request-id"]
    assert not is_internal(response.text) and "catalog" not in response.text
    (logged,) = [line for line in lines.lines if line["requestId"] == request_id]
    assert logged["level"] == "warning"
    assert (logged["peerStatus"], logged["peerCode"], logged["peerDetails"]) == (503, code, logged_details)


def test_a_peers_field_errors_reach_the_client(gateway: TestClient, lines: Lines) -> None:
    body = {"email": "ada@example.com", "password": "short-pw", "name": "Ada"}
    response = gateway.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "WEAK_PASSWORD",
        "message": "Use at least 8 characters.",
        "details": [{"field": "password", "message": "Too short."}],
    }
    assert lines.lines == []  # a refusal is the client's business, not an incident


def test_a_crash_in_the_gateway_answers_a_generic_500_and_logs_the_traceback(
    gateway: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = gateway.get("/api/v1/orders", headers=ADMIN)
    assert response.status_code == 500
    assert response.json()["error"] == {"code": "INTERNAL_ERROR", "message": "An unexpected error occurred."}
    assert not is_internal(response.text) and "driver state" not in response.text
    crash = next(record for record in caplog.records if record.exc_info)
    assert "driver state at crash" in str(crash.exc_info[1])  # type: ignore[index]
