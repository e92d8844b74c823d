"""The registry at the edge: counts for anyone, details for admins, and a down service refused without a call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

import apps.gateway.peers as peers_module
from apps.gateway.peers import Peers
from apps.gateway.registry import ServiceRegistry
from apps.gateway.registry.refresher import registry_for
from servicekit.clock import utc_text
from servicekit.sidecar_errors import BreakerOpen
from tests.unit.fakes import FakeSidecar
from tests.unit.gateway.helpers import APPS, TOKENS, bearer, gateway_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def sidecar() -> FakeSidecar:
    fake = FakeSidecar()

    async def catalog(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        return {"items": [], "total": 0}

    fake.apps["catalog"] = catalog
    return fake


@pytest.fixture
def registry() -> ServiceRegistry:
    return registry_for(APPS)


@pytest.fixture
def client(sidecar: FakeSidecar, registry: ServiceRegistry, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # The trial just taken (mark_down) stays the last one for the whole test, however slow the machine.
    monkeypatch.setattr(peers_module, "TRIAL_SPACING_SECONDS", 60.0)
    peers = Peers(sidecar, APPS, (), registry=registry, retry_after_seconds=2)
    with gateway_client(peers, TOKENS) as test_client:
        yield test_client


def mark_down(registry: ServiceRegistry, name: str) -> datetime:
    """Down, with its trial call just taken: the next call is refused without a call (peers.TRIAL_SPACING_SECONDS)."""
    now = datetime.now(UTC)
    registry.probe_failed(name, at=now, code="SERVICE_UNAVAILABLE")
    registry.probe_failed(name, at=now, code="SERVICE_UNAVAILABLE")
    assert registry.take_trial(name, peers_module.TRIAL_SPACING_SECONDS, now=now)
    return now


def test_a_down_service_is_refused_at_once_without_a_call(
    client: TestClient, sidecar: FakeSidecar, registry: ServiceRegistry
) -> None:
    mark_down(registry, APPS.catalog)
    refused = client.get("/api/v1/products")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "2"
    body = refused.json()
    assert body["success"] is False and body["statusCode"] == 503
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE" and body["requestId"]
    assert sidecar.invocations == []
    registry.probe_succeeded(APPS.catalog, at=T0)
    assert client.get("/api/v1/products").status_code == 200
    assert [call[0] for call in sidecar.invocations] == [APPS.catalog]


def test_the_status_counts_services_for_anyone(client: TestClient, registry: ServiceRegistry) -> None:
    assert client.get("/api/v1/gateway/status").json()["data"] == {
        "status": "ok",
        "servicesUp": len(registry.names),
        "servicesDown": 0,
    }
    mark_down(registry, APPS.orders)
    answer = client.get("/api/v1/gateway/status")
    assert answer.json()["data"]["status"] == "degraded" and answer.json()["data"]["servicesDown"] == 1
    assert "orders" not in answer.text


@pytest.mark.parametrize(("headers", "status", "code"), [({}, 401, "AUTH_REQUIRED"), (bearer(), 403, "ADMIN_ONLY")])
def test_the_services_list_is_for_admins_only(
    client: TestClient, headers: dict[str, str], status: int, code: str
) -> None:
    refused = client.get("/api/v1/gateway/services", headers=headers)
    assert refused.status_code == status
    assert refused.json()["error"]["code"] == code


def test_admins_see_each_service_its_routes_health_and_breaker(
    client: TestClient, sidecar: FakeSidecar, registry: ServiceRegistry
) -> None:
    async def refusing(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        raise BreakerOpen("The orders service is unavailable.")

    sidecar.apps["orders"] = refusing
    checked = mark_down(registry, APPS.analytics)
    assert client.get("/api/v1/orders", headers=bearer()).status_code == 503
    items = client.get("/api/v1/gateway/services", headers=bearer("admin")).json()["data"]["items"]
    by_name = {item["name"]: item for item in items}
    assert by_name["catalog"] == {
        "name": "catalog",
        "routePrefixes": ["/api/v1/products"],
        "state": "up",
        "health": "unknown",
        "lastSeen": None,
        "lastChecked": None,
        "consecutiveFailures": 0,
        "lastError": None,
        "breaker": {"state": "closed", "changedAt": None},
    }
    assert by_name["orders"]["breaker"]["state"] == "open" and by_name["orders"]["breaker"]["changedAt"]
    assert by_name["orders"]["state"] == "up"  # a refused call alone marks nothing down
    assert (by_name["analytics"]["state"], by_name["analytics"]["health"]) == ("down", "unavailable")
    assert by_name["analytics"]["lastChecked"] == utc_text(checked)
