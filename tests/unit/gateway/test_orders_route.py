"""The public POST /orders: the Idempotency-Key header is checked, generated when absent, and forwarded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.gateway.peers import Peers
from tests.unit.fakes import FakeSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, bearer, gateway_client

BODY = {"items": [{"productId": "p1", "quantity": 2}], "paymentMethod": {"token": "tok_ok"}}


@pytest.fixture
def sidecar() -> FakeSidecar:
    fake = FakeSidecar()

    async def orders_app(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        return {"id": "o-1", "status": "PENDING_PAYMENT", "userId": json["userId"]}

    fake.apps["orders"] = orders_app
    return fake


@pytest.fixture
def client(sidecar: FakeSidecar) -> Iterator[TestClient]:
    with gateway_client(Peers(sidecar, APPS, ()), TOKENS) as test_client:
        yield test_client


def forwarded_keys(sidecar: FakeSidecar) -> list[str | None]:
    return [headers.get("Idempotency-Key") for app, _, path, headers in sidecar.invocations if path == "/orders"]


def test_the_clients_key_is_forwarded_to_orders(client: TestClient, sidecar: FakeSidecar) -> None:
    key = f"checkout-{uuid.uuid4()}"
    for _ in range(2):
        placed = client.post("/api/v1/orders", json=BODY, headers={**bearer(), "Idempotency-Key": key})
        assert placed.status_code == 201, placed.text
    assert forwarded_keys(sidecar) == [key, key]


def test_without_a_key_each_request_gets_its_own(client: TestClient, sidecar: FakeSidecar) -> None:
    for _ in range(2):
        assert client.post("/api/v1/orders", json=BODY, headers=bearer()).status_code == 201
    first, second = forwarded_keys(sidecar)
    assert first and second and first != second


@pytest.mark.parametrize("key", ["", "x" * 129, "caf\u00e9", "tab\there"], ids=["empty", "long", "non-ascii", "tab"])
def test_an_invalid_key_is_a_400_in_the_envelope(client: TestClient, sidecar: FakeSidecar, key: str) -> None:
    refused = client.post("/api/v1/orders", json=BODY, headers={**bearer(), "Idempotency-Key": key.encode()})
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert (body["success"], body["statusCode"], body["error"]["code"]) == (False, 400, "INVALID_IDEMPOTENCY_KEY")
    assert forwarded_keys(sidecar) == []


def test_the_longest_valid_key_passes(client: TestClient, sidecar: FakeSidecar) -> None:
    key = "k" * 127 + "~"
    assert client.post("/api/v1/orders", json=BODY, headers={**bearer(), "Idempotency-Key": key}).status_code == 201
    assert forwarded_keys(sidecar) == [key]
