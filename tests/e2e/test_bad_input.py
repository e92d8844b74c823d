"""Hostile input at the real public edge: every route, never a 5xx, always the error envelope."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from apps.gateway.main import create_app
from apps.gateway.settings import GatewaySettings
from tests.e2e.conftest import Account

HOSTILE_IDS = ["\x00", "a\x00b", "..", "a b", "ü", "😀", "x" * 65, "x" * 3000, "'; DROP TABLE x; --", "%00", "a?b"]
HOSTILE_QUERY = ["\x00", "", "-1", "1e309", "9" * 400, "abc", "ü", "NaN"]
HOSTILE_BODIES = [b"{", b"null", b"[]", b"1e999", b"[" * 3000 + b"]" * 3000, b'{"a": NaN}', b"\xff\xfe", b"1" * 5000]
HOSTILE_VALUES: list[Any] = [None, True, -1, 1e308, 10**30, "", "\x00", "a\x00b", "ü" * 300, [], {}, "x" * 5000]
# The only bodies whose fields are fuzzed: tenant creation runs migrations, so its hostile-but-valid
# values would each provision a school; its shape errors are covered by the raw bodies above.
FIELD_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/auth/register": {"email": "x@example.com", "password": "correct horse", "name": "Ada"},
    "/api/v1/auth/login": {"email": "x@example.com", "password": "correct horse"},
    "/api/v1/products": {"sku": "SKU-1", "name": "Pen", "price": 1.5, "stock": 3},
    "/api/v1/orders": {"items": [{"productId": "p" * 32, "quantity": 1}], "paymentMethod": {"token": "tok_hold"}},
}


def public_routes() -> list[tuple[str, str]]:
    """Every public route that answers an envelope; an event stream never ends (tests/e2e/test_event_feed.py)."""
    paths: dict[str, dict[str, Any]] = create_app(GatewaySettings()).openapi()["paths"]
    return sorted(
        (m.upper(), p)
        for p, ops in paths.items()
        if p.startswith("/api/v1")
        for m, op in ops.items()
        if "text/event-stream" not in op.get("responses", {}).get("200", {}).get("content", {})
    )


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", quote(value, safe="").replace(".", "%2E"), path).removeprefix("/api/v1")


def assert_envelope(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert isinstance(body.get("requestId"), str), what
    if body["success"] is False:
        assert body["statusCode"] == response.status_code, what
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), what


def test_every_public_route_survives_hostile_input(
    gateway: httpx.Client, admin_auth: dict[str, str], account: Account
) -> None:
    routes = public_routes()
    assert len(routes) >= 18
    for method, path in routes:
        for auth in (admin_auth, account.auth):
            if "{" in path:
                for value in HOSTILE_IDS:
                    response = gateway.request(method, fill(path, value), headers=auth, json={})
                    assert_envelope(response, f"{method} {path} id={value[:20]!r}")
                    if response.status_code != 404:
                        assert response.status_code in (400, 403, 422), f"{method} {path} id={value[:20]!r}"
            for value in HOSTILE_QUERY:
                params = {"limit": value, "offset": value, "orderId": value}
                response = gateway.request(method, fill(path, uuid.uuid4().hex), params=params, headers=auth)
                assert_envelope(response, f"{method} {path} query={value[:20]!r}")
            if method != "POST":
                continue
            for body in HOSTILE_BODIES:
                headers = {**auth, "content-type": "application/json"}
                response = gateway.request(method, fill(path, uuid.uuid4().hex), content=body, headers=headers)
                assert_envelope(response, f"{method} {path} body={body[:20]!r}")


@pytest.mark.parametrize("path", sorted(FIELD_BODIES))
def test_wrong_types_huge_numbers_unicode_and_nul_bytes_in_fields(
    gateway: httpx.Client, admin_auth: dict[str, str], path: str
) -> None:
    valid = FIELD_BODIES[path]
    for field in valid:
        for value in HOSTILE_VALUES:
            body = {**valid, field: value}
            if path.endswith("/register") and field == "email" and isinstance(value, str):
                body["email"] = f"{uuid.uuid4().hex[:8]}{value}@example.com"
            content = json.dumps(body)
            headers = {**admin_auth, "content-type": "application/json"}
            response = gateway.post(path.removeprefix("/api/v1"), content=content, headers=headers)
            assert_envelope(response, f"POST {path} {field}={value!r:.30}")


def test_nul_in_an_order_id_is_422_not_500(gateway: httpx.Client, account: Account) -> None:
    response = gateway.get("/orders/%00", headers=account.auth)
    assert (response.status_code, response.json()["success"]) == (422, False), response.text
