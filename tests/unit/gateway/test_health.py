"""Public health: up or down per service for anyone; checks, components and sidecars for admins only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.gateway.peers import Peers, RecentReport
from tests.unit.fakes import FakeSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, bearer, gateway_client

COMPONENTS = [{"name": "statestore", "type": "state.sqlite", "version": "v1"}]
READY = {"status": "ready", "checks": {"sidecar": "ok", "database": "ok"}, "components": COMPONENTS}

pytestmark = pytest.mark.anyio


@pytest.fixture
def sidecar() -> FakeSidecar:
    fake = FakeSidecar()

    async def ready(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        return READY

    fake.apps["identity"] = ready  # catalog has no handler: the fake answers SERVICE_UNAVAILABLE
    return fake


@pytest.fixture
def client(sidecar: FakeSidecar) -> Iterator[TestClient]:
    async def components() -> list[dict[str, Any]]:
        return COMPONENTS

    peers = Peers(sidecar, APPS, ("identity", "catalog"), RecentReport(0))
    with gateway_client(peers, TOKENS, components=components) as test_client:
        yield test_client


def test_anonymous_health_says_up_or_down_per_service_and_nothing_else(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "status": "degraded",
        "service": "gateway",
        "services": {"identity": {"status": "ok"}, "catalog": {"status": "unavailable"}},
    }
    for internal in ("statestore", "state.sqlite", "v1", "checks", "components", "SERVICE_UNAVAILABLE"):
        assert internal not in response.text


def test_detailed_health_needs_a_token(client: TestClient) -> None:
    refused = client.get("/api/v1/health/detailed")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "AUTH_REQUIRED"
    assert "statestore" not in refused.text


def test_detailed_health_is_not_for_customers(client: TestClient) -> None:
    refused = client.get("/api/v1/health/detailed", headers=bearer("customer"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ADMIN_ONLY"


def test_admins_see_checks_components_and_why_a_service_is_down(client: TestClient) -> None:
    report = client.get("/api/v1/health/detailed", headers=bearer("admin")).json()["data"]
    assert report["status"] == "degraded"
    assert report["gateway"] == {"status": "ok", "components": COMPONENTS}
    assert report["services"]["identity"] == {**READY, "status": "ok"}
    assert report["services"]["catalog"]["status"] == "unavailable"
    assert report["services"]["catalog"]["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_the_openapi_document_says_who_sees_what(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    anonymous, detailed = paths["/api/v1/health"]["get"], paths["/api/v1/health/detailed"]["get"]
    assert "up" in anonymous["description"] and "no component" in anonymous["description"].lower()
    assert {"401", "403"} <= set(detailed["responses"])
    assert "admin" in detailed["summary"].lower()


async def test_one_readiness_round_serves_every_caller_while_it_is_recent() -> None:
    rounds = 0

    async def ask() -> dict[str, Any]:
        nonlocal rounds
        rounds += 1
        await asyncio.sleep(0.01)
        return {"identity": {"status": "ok"}}

    recent = RecentReport(max_age_seconds=0.2)
    reports = await asyncio.gather(*(recent.get(ask) for _ in range(20)))
    assert rounds == 1 and all(r == {"identity": {"status": "ok"}} for r in reports)
    await asyncio.sleep(0.25)
    await recent.get(ask)
    assert rounds == 2


async def test_a_max_age_of_zero_asks_every_time() -> None:
    rounds = 0

    async def ask() -> dict[str, Any]:
        nonlocal rounds
        rounds += 1
        return {}

    recent = RecentReport(max_age_seconds=0)
    for _ in range(3):
        await recent.get(ask)
    assert rounds == 3
