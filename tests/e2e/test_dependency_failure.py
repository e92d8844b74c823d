"""A dead dependency: identity stopped -> 503 in the envelope within a bounded time, then recovery."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.e2e.conftest import Account
from tests.e2e.test_identity_flow import assert_error
from tools.stack import Stack
from tools.stack.processes import wait_for

# The resiliency YAML allows 3 attempts of at most 3 s each plus backoff; add room for a slow machine.
BOUND_SECONDS = 15.0


def test_identity_down_gives_503_then_recovers(gateway: httpx.Client, stack: Stack, account: Account) -> None:
    stack.stop_app("identity")
    try:
        calls: tuple[tuple[str, Callable[[], httpx.Response]], ...] = (
            ("/users/me", lambda: gateway.get("/users/me", headers=account.auth)),
            (
                "/auth/login",
                lambda: gateway.post("/auth/login", json={"email": account.email, "password": account.password}),
            ),
        )
        for path, call in calls:
            started = time.monotonic()
            response = call()
            elapsed = time.monotonic() - started
            body = assert_error(response, 503)
            assert body["error"]["code"] in {"SERVICE_UNAVAILABLE", "UPSTREAM_TIMEOUT"}, (path, body)  # type: ignore[index]
            assert elapsed < BOUND_SECONDS, (path, elapsed)
        health = gateway.get("/health").json()["data"]  # anonymous: up or down per service
        assert health["status"] == "degraded"
        assert health["services"]["identity"] == {"status": "unavailable"}
    finally:
        stack.start_app("identity")

    def signed_in_again() -> bool:
        return gateway.get("/users/me", headers=account.auth).status_code == 200

    # The circuit breaker stays open for 3 s after the failures above; then a trial call closes it.
    wait_for(signed_in_again, timeout=60, interval=1.0, what="the gateway to reach identity again")
    login = gateway.post("/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 200, login.text
