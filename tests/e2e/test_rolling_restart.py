"""A restarted service is callable as soon as it reports ready: a rolling restart fails no request."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import NO_CACHE
from tools.stack import Stack

CALLS_AFTER_RESTART = 20
DOWN_SECONDS = 4.0  # long enough for the caller's sidecar to back off its reconnects to the dead peer


@pytest.mark.parametrize(
    ("app_id", "path"),
    [("catalog", "/products"), ("orders", "/orders"), ("admin", "/tenants"), ("analytics", "/reports/summary")],
)
def test_every_call_succeeds_right_after_a_service_and_its_sidecar_restart(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str], app_id: str, path: str
) -> None:
    auth = {**admin_auth, **NO_CACHE}  # catalog's answers, not the gateway's cached copies
    assert gateway.get(path, headers=auth).status_code == 200  # the gateway's sidecar now holds a connection
    stack.stop_app(app_id)
    try:
        started = time.monotonic()
        down = gateway.get(path, headers=auth)
        assert down.status_code == 503, down.text
        assert time.monotonic() - started < 10  # a dead peer is a prompt 503, not a hang
        time.sleep(DOWN_SECONDS)
    finally:
        stack.start_app(app_id)
    answers = [gateway.get(path, headers=auth) for _ in range(CALLS_AFTER_RESTART)]
    failures = [(r.status_code, r.text[:200]) for r in answers if r.status_code != 200]
    assert failures == [], f"{len(failures)} of {CALLS_AFTER_RESTART} calls failed after the restart"


def test_the_gateway_keeps_answering_when_its_own_sidecar_restarts(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str]
) -> None:
    stack.stop_app("gateway")
    stack.start_app("gateway")
    headers = {**admin_auth, **NO_CACHE}
    answers = [gateway.get("/products", headers=headers).status_code for _ in range(CALLS_AFTER_RESTART)]
    assert answers == [200] * CALLS_AFTER_RESTART
