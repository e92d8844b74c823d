"""Accounts through the public edge: gateway -> Dapr invocation -> identity, with events via the broker."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

import httpx

from tests.e2e.conftest import Account
from tools.stack import Stack
from tools.stack.processes import wait_for


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == status
    assert body["requestId"] and body["timestamp"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return cast("dict[str, object]", body)


def test_register_login_me(gateway: httpx.Client, unique_email: str) -> None:
    registered = gateway.post(
        "/auth/register", json={"email": unique_email.upper(), "password": "s3cret-pass", "name": "  Grace   Hopper "}
    )
    assert registered.status_code == 201, registered.text
    user = registered.json()["data"]
    assert user["email"] == unique_email and user["name"] == "Grace Hopper" and user["role"] == "customer"
    assert "password" not in registered.text and "argon2" not in registered.text

    login = gateway.post("/auth/login", json={"email": unique_email, "password": "s3cret-pass"})
    assert login.status_code == 200, login.text
    token = login.json()["data"]
    assert token["tokenType"] == "bearer" and token["expiresIn"] > 0

    me = gateway.get("/users/me", headers={"Authorization": f"Bearer {token['accessToken']}"})
    assert me.status_code == 200, me.text
    assert me.json()["success"] is True
    assert me.json()["data"] == user


def test_duplicate_email_is_409(gateway: httpx.Client, account: Account) -> None:
    again = gateway.post("/auth/register", json={"email": account.email, "password": "another-pass", "name": "Eve"})
    assert_error(again, 409, "EMAIL_TAKEN")


def test_wrong_password_and_unknown_email_are_401(gateway: httpx.Client, account: Account) -> None:
    wrong = gateway.post("/auth/login", json={"email": account.email, "password": "not-the-password"})
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    unknown = gateway.post(
        "/auth/login", json={"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "whatever1"}
    )
    assert_error(unknown, 401, "INVALID_CREDENTIALS")


def test_missing_or_bad_token_is_401(gateway: httpx.Client, account: Account) -> None:
    assert_error(gateway.get("/users/me"), 401, "AUTH_REQUIRED")
    assert_error(gateway.get("/users/me", headers={"Authorization": "Bearer not.a.jwt"}), 401, "INVALID_TOKEN")
    tampered = account.token[:-4] + ("AAAA" if not account.token.endswith("AAAA") else "BBBB")
    assert_error(gateway.get("/users/me", headers={"Authorization": f"Bearer {tampered}"}), 401, "INVALID_TOKEN")


def test_admin_is_seeded(gateway: httpx.Client) -> None:
    login = gateway.post("/auth/login", json={"email": "admin@junction.local", "password": "junction-admin"})
    assert login.status_code == 200, login.text
    me = gateway.get("/users/me", headers={"Authorization": f"Bearer {login.json()['data']['accessToken']}"})
    assert me.json()["data"]["role"] == "admin"


def test_bad_input_gets_4xx_envelope(gateway: httpx.Client, unique_email: str) -> None:
    malformed = gateway.post("/auth/register", content=b'{"email": ', headers={"content-type": "application/json"})
    assert_error(malformed, 400, "MALFORMED_JSON")
    wrong_types = gateway.post("/auth/register", json={"email": 42, "password": ["x"], "name": None})
    body = assert_error(wrong_types, 422, "VALIDATION_FAILED")
    fields = {d["field"] for d in body["error"]["details"]}  # type: ignore[index]
    assert {"email", "password", "name"} <= fields
    bad_email = gateway.post("/auth/register", json={"email": "not-an-email", "password": "long-enough", "name": "X"})
    assert_error(bad_email, 422, "INVALID_EMAIL")
    short_password = gateway.post("/auth/register", json={"email": unique_email, "password": "short", "name": "X"})
    assert_error(short_password, 422)
    oversize = gateway.post(
        "/auth/register", json={"email": unique_email, "password": "long-enough", "name": "x" * 100_000}
    )
    assert_error(oversize, 413, "PAYLOAD_TOO_LARGE")
    assert_error(gateway.get("/no/such/route"), 404, "ROUTE_NOT_FOUND")
    # Nothing was half-written: the address is still free.
    ok = gateway.post("/auth/register", json={"email": unique_email, "password": "long-enough", "name": "X"})
    assert ok.status_code == 201, ok.text


def test_request_id_is_echoed_and_reaches_identity(gateway: httpx.Client, stack: Stack, unique_email: str) -> None:
    request_id = f"e2e-{uuid.uuid4().hex}"
    response = gateway.post(
        "/auth/register",
        json={"email": unique_email, "password": "long-enough", "name": "Traced"},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == request_id
    assert response.json()["requestId"] == request_id
    generated = gateway.get("/health")
    assert len(generated.headers["x-request-id"]) >= 16
    wait_for(lambda: request_id in stack.app_log("identity"), timeout=10, what="identity's log line for the request")
    identity_lines = [line for line in stack.app_log("identity").splitlines() if request_id in line]
    assert any('"path": "/users"' in line for line in identity_lines)


def test_user_registered_is_delivered_through_the_broker(
    gateway: httpx.Client, stack: Stack, unique_email: str
) -> None:
    request_id = f"evt-{uuid.uuid4().hex}"
    registered = gateway.post(
        "/auth/register",
        json={"email": unique_email, "password": "long-enough", "name": "Evented"},
        headers={"X-Request-ID": request_id},
    )
    user_id = registered.json()["data"]["id"]
    probe = stack.apps["probe"]

    def delivered() -> list[dict[str, Any]]:
        events = httpx.get(f"{probe.app_url}/received", timeout=2).json()
        return [
            e
            for e in events
            if e["topic"] == "user.registered" and e["event"]["data"]["payload"].get("userId") == user_id
        ]

    wait_for(lambda: bool(delivered()), timeout=20, what="user.registered at the probe subscriber")
    (event,) = delivered()
    cloud_event = event["event"]
    assert cloud_event["type"] == "user.registered" and cloud_event["topic"] == "user.registered"
    data = cloud_event["data"]
    assert cloud_event["id"] == data["eventId"]
    assert data["schemaVersion"] == 1 and data["requestId"] == request_id
    assert data["payload"] == {"userId": user_id, "email": unique_email, "name": "Evented", "role": "customer"}


def test_rate_limit_answers_429_with_retry_after(gateway: httpx.Client, account: Account) -> None:
    statuses = []
    deadline = time.monotonic() + 10
    for _ in range(40):
        if time.monotonic() > deadline:
            break
        response = gateway.get("/users/me", headers=account.auth)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_error(response, 429, "RATE_LIMITED")
            assert int(response.headers["retry-after"]) >= 1
            break
    assert statuses[0] == 200
    assert statuses[-1] == 429, statuses


def test_detailed_health_reports_services_and_components(gateway: httpx.Client, admin_auth: dict[str, str]) -> None:
    health = gateway.get("/health/detailed", headers=admin_auth)
    assert health.status_code == 200, health.text
    report = health.json()["data"]
    assert report["services"]["identity"]["status"] == "ok"
    assert report["services"]["identity"]["checks"] == {"sidecar": "ok", "database": "ok"}
    names = {c["name"] for c in report["gateway"]["components"]}
    assert {"pubsub", "statestore", "secretstore"} <= names
