"""The gateway's registry: catalog stopped is marked down within two intervals and its routes answer 503 at
once (but one trial call a second); started again, its routes answer 200 at once, and it is marked up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

from apps.gateway.settings import GatewaySettings
from tests.e2e.conftest import NO_CACHE, wait_until
from tests.e2e.test_identity_flow import assert_error
from tools.stack import Stack

INTERVAL = GatewaySettings().registry_interval_seconds
MARKED_WITHIN = 3 * INTERVAL + 5  # two intervals and a probe's timeout, with room for a slow machine
FAST = 0.5
"""A refusal without a call: far under the resiliency budget of a call to a dead catalog (6.5 s)."""


def registered(gateway: httpx.Client, admin_auth: dict[str, str], name: str) -> dict[str, Any]:
    response = gateway.get("/gateway/services", headers=admin_auth)
    assert response.status_code == 200, response.text
    return next(item for item in response.json()["data"]["items"] if item["name"] == name)


def test_a_stopped_service_is_marked_down_refused_at_once_and_back_when_started(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str]
) -> None:
    catalog = registered(gateway, admin_auth, "catalog")
    assert catalog["routePrefixes"] == ["/api/v1/products"]
    assert gateway.get("/products", headers=NO_CACHE).status_code == 200
    stack.stop_app("catalog")
    try:
        down = wait_until(
            lambda: registered(gateway, admin_auth, "catalog"),
            lambda item: item["state"] == "down",
            timeout=MARKED_WITHIN,
            what="the registry to mark catalog down",
        )
        assert down["health"] == "unavailable" and down["consecutiveFailures"] >= 2, down
        status = gateway.get("/gateway/status").json()["data"]
        assert status["status"] == "degraded" and status["servicesDown"] >= 1, status
        # Refused at once, without a call (no-cache: no cached copy answers in catalog's place), but one trial
        # call a second (peers.TRIAL_SPACING_SECONDS), which meets catalog's absence.
        fast = 0
        for _ in range(6):
            started = time.monotonic()
            refused = gateway.get("/products", headers=NO_CACHE)
            assert_error(refused, 503, "SERVICE_UNAVAILABLE")
            if time.monotonic() - started < FAST and refused.headers.get("Retry-After"):
                fast += 1
        assert fast >= 3, f"only {fast} of 6 calls to a catalog marked down were refused at once"
    finally:
        restarted = datetime.now(UTC)
        stack.start_app("catalog")
    # Back as soon as it reports ready: the first call after the restart is a trial; it goes through.
    assert gateway.get("/products", headers=NO_CACHE).status_code == 200
    up = registered(gateway, admin_auth, "catalog")
    assert up["state"] == "up" and datetime.fromisoformat(up["lastSeen"]) >= restarted, up
    assert up["consecutiveFailures"] == 0, up  # `health` is the last probe's answer: ok from the next one on


def test_the_registry_is_for_admins_and_the_status_for_anyone(
    gateway: httpx.Client, admin_auth: dict[str, str], account: Any
) -> None:
    assert_error(gateway.get("/gateway/services"), 401)
    assert_error(gateway.get("/gateway/services", headers=account.auth), 403)
    status = gateway.get("/gateway/status")
    assert status.status_code == 200
    assert set(status.json()["data"]) == {"status", "servicesUp", "servicesDown"}
