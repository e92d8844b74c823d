"""The public edge: who a client is, and the middleware that answers 429 before any route runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from apps.gateway.edge import RateLimitMiddleware, client_key
from servicekit import ok
from servicekit.tokens import TokenCodec
from tests.unit.gateway.helpers import TOKENS, LimiterOf, edge_app, services


def scope(authorization: str | None = None, client: tuple[str, int] | None = ("203.0.113.7", 51000)) -> dict[str, Any]:
    headers = [(b"host", b"gateway")]
    if authorization is not None:
        headers.append((b"authorization", authorization.encode("latin-1")))
    return {"type": "http", "path": "/api/v1/users/me", "headers": headers, "client": client}


def test_valid_bearer_token_names_the_user() -> None:
    subject = uuid.uuid4().hex
    token = TOKENS.issue(subject=subject, email="a@example.com", role="customer")
    assert client_key(scope(f"Bearer {token}"), TOKENS) == f"user:{subject}"
    assert client_key(scope(f"bearer  {token} "), TOKENS) == f"user:{subject}"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not.a.jwt",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        f"Bearer {TokenCodec('h' * 32).issue(subject='intruder', email='', role='admin')}",
    ],
    ids=["none", "garbage", "empty", "basic", "foreign-signature"],
)
def test_without_a_valid_token_the_address_names_the_client(authorization: str | None) -> None:
    assert client_key(scope(authorization), TOKENS) == "addr:203.0.113.7"


def test_without_a_codec_tokens_are_ignored() -> None:
    token = TOKENS.issue(subject="u-1", email="a@example.com", role="customer")
    assert client_key(scope(f"Bearer {token}"), None) == "addr:203.0.113.7"


def test_without_a_client_address_the_client_is_unknown() -> None:
    assert client_key(scope(client=None), TOKENS) == "addr:unknown"


router = APIRouter()


@router.get("/api/v1/ping")
async def ping() -> JSONResponse:
    return ok({"pong": True})


@pytest.fixture
def edge(limiter_of: LimiterOf) -> Iterator[TestClient]:
    limiter = limiter_of("tiers:\n  - name: default\n    paths: [/]\n    limits: ['2/hour']\n")
    app = edge_app([router], services(tokens=TOKENS, limiter=limiter))
    with TestClient(app) as client:
        yield client


def test_middleware_answers_429_envelope_with_retry_after(edge: TestClient) -> None:
    assert [edge.get("/api/v1/ping").status_code for _ in range(2)] == [200, 200]
    refused = edge.get("/api/v1/ping")
    assert refused.status_code == 429
    body = refused.json()
    assert body["success"] is False
    assert body["statusCode"] == 429
    assert body["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    assert body["error"]["details"] == {"retryAfter": int(refused.headers["retry-after"])}


def test_refusals_carry_the_request_id_in_the_real_gateway_stack(limiter_of: LimiterOf) -> None:
    limiter = limiter_of("tiers:\n  - name: default\n    paths: [/]\n    limits: ['1/hour']\n")
    app = edge_app([router], services(tokens=TOKENS, limiter=limiter))
    with TestClient(app) as client:
        client.get("/api/v1/ping")
        refused = client.get("/api/v1/ping", headers={"X-Request-ID": "rl-check-1"})
    assert refused.status_code == 429
    assert refused.json()["requestId"] == "rl-check-1" == refused.headers["x-request-id"]


def test_signed_in_users_have_their_own_budget(edge: TestClient) -> None:
    for _ in range(2):
        edge.get("/api/v1/ping")
    assert edge.get("/api/v1/ping").status_code == 429
    token = TOKENS.issue(subject=uuid.uuid4().hex, email="a@example.com", role="customer")
    assert edge.get("/api/v1/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_paths_outside_the_api_are_not_limited(edge: TestClient) -> None:
    assert {edge.get("/healthz").status_code for _ in range(5)} == {200}


def test_without_a_limiter_everything_passes() -> None:
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(RateLimitMiddleware)
    with TestClient(app) as client:
        assert {client.get("/api/v1/ping").status_code for _ in range(5)} == {200}


login_router = APIRouter()


@login_router.post("/api/v1/auth/login")
async def fake_login(body: dict[str, str]) -> JSONResponse:
    if body.get("password") != "right":
        return JSONResponse({"success": False, "error": {"code": "INVALID_CREDENTIALS"}}, status_code=401)
    return ok({"accessToken": "t"})


@pytest.fixture
def login_edge(limiter_of: LimiterOf) -> Iterator[TestClient]:
    limiter = limiter_of(
        "tiers:\n"
        "  - name: login\n    paths: [/api/v1/auth/login]\n    limits: ['100/hour']\n    failures: ['3/hour']\n"
        "  - name: default\n    paths: [/]\n    limits: ['100/hour']\n"
    )
    app = edge_app([login_router], services(tokens=TOKENS, limiter=limiter))
    with TestClient(app) as client:
        yield client


def login(edge: TestClient, password: str, headers: dict[str, str] | None = None) -> int:
    status: int = edge.post("/api/v1/auth/login", json={"password": password}, headers=headers).status_code
    return status


def test_wrong_passwords_are_throttled_and_right_ones_are_not_counted(login_edge: TestClient) -> None:
    assert [login(login_edge, "right") for _ in range(5)] == [200] * 5
    assert [login(login_edge, "wrong") for _ in range(4)] == [401, 401, 401, 429]
    refused = login_edge.post("/api/v1/auth/login", json={"password": "right"})  # the throttle holds for everyone
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert "failed attempts" in refused.json()["error"]["message"]


def test_a_token_does_not_buy_fresh_guesses(login_edge: TestClient) -> None:
    for _ in range(3):
        login(login_edge, "wrong")
    fresh = TOKENS.issue(subject=uuid.uuid4().hex, email="a@example.com", role="customer")
    assert login(login_edge, "wrong", {"Authorization": f"Bearer {fresh}"}) == 429
