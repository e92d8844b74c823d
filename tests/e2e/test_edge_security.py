"""The public edge against a hostile client: a spoofed X-Forwarded-For, anonymous health, a dead dependency."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import yaml
from limits import parse_many

from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_identity_flow import assert_error
from tools.stack import Stack
from tools.stack.processes import wait_for

LOGIN = "/api/v1/auth/login"
WRONG_LOGINS = 30
# What only Dapr, gRPC, Go's network stack, a traceback or the service map would put in an answer.
INTERNAL_TEXT = ("err_", "dapr", "grpc", "rpc error", "connection refused", "dial tcp", "traceback", "identity")


def login_tier(stack: Stack) -> dict[str, Any]:
    """The tier the running gateway applies to logins (the first whose prefix matches, as the limiter picks)."""
    tiers: list[dict[str, Any]] = yaml.safe_load((stack.run_dir / "ratelimits.yaml").read_text())["tiers"]
    return next(tier for tier in tiers if any(LOGIN.startswith(prefix) for prefix in tier["paths"]))


def own_loopback_address() -> str:
    """A loopback address of this test's own (Linux routes all of 127/8 to lo): its counters are its own."""
    a, b, c = uuid.uuid4().bytes[:3]
    return f"127.{a}.{b}.{max(c, 2)}"


def gateway_lines(stack: Stack, request_id: str) -> list[str]:
    return [line for line in stack.app_log("gateway").splitlines() if request_id in line]


def test_a_new_x_forwarded_for_on_each_wrong_password_does_not_escape_the_throttle(
    gateway: httpx.Client, stack: Stack, account: Account
) -> None:
    tier = login_tier(stack)
    assert tier.get("failures"), f"logins must count failures in the test stack too (tests/e2e/conftest.py): {tier}"
    tightest = min(item.amount for spec in tier["failures"] for item in parse_many(spec))
    transport = httpx.HTTPTransport(local_address=own_loopback_address())
    with httpx.Client(base_url=gateway.base_url, transport=transport, timeout=30) as guesser:
        wrong = {"email": account.email, "password": "not-the-password"}
        answers = [
            guesser.post("/auth/login", json=wrong, headers={"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(WRONG_LOGINS)
        ]
        statuses = [answer.status_code for answer in answers]
        assert 429 in statuses, statuses
        first_refusal = statuses.index(429)
        assert statuses[:first_refusal] == [401] * first_refusal and 1 <= first_refusal <= tightest, statuses
        assert set(statuses[first_refusal:]) == {429}, statuses
        refused = answers[-1]
        assert_error(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["retry-after"]) >= 1
        # The throttle holds the guesser's address whatever it sends, the right password included.
        right = {"email": account.email, "password": account.password}
        assert_error(guesser.post("/auth/login", json=right, headers={"X-Forwarded-For": "198.51.100.250"}), 429)
    assert gateway.post("/auth/login", json=right).status_code == 200  # every other client signs in as before


def test_anonymous_health_says_up_or_down_per_service_and_details_need_an_admin(
    gateway: httpx.Client, account: Account, admin_auth: dict[str, str]
) -> None:
    health = gateway.get("/health")
    assert health.status_code == 200, health.text
    report = health.json()["data"]
    assert set(report) == {"status", "service", "services"}
    assert report["services"] and all(
        service in ({"status": "ok"}, {"status": "unavailable"}) for service in report["services"].values()
    ), report
    for internal in ("components", "checks", "version", "type", "pubsub", "statestore", "secretstore", "error"):
        assert internal not in health.text, internal
    assert_error(gateway.get("/health/detailed"), 401, "AUTH_REQUIRED")
    assert_error(gateway.get("/health/detailed", headers=account.auth), 403, "ADMIN_ONLY")
    detailed = gateway.get("/health/detailed", headers=admin_auth)
    assert detailed.status_code == 200, detailed.text
    names = {c["name"] for c in detailed.json()["data"]["gateway"]["components"]}
    assert {"pubsub", "statestore", "secretstore"} <= names


def test_a_dead_dependencys_503_carries_no_internal_text_and_its_log_line_does(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., dict[str, Any]]
) -> None:
    product = make_product(stock=10)
    order = {"items": [{"productId": product["id"], "quantity": 1}], "paymentMethod": {"token": "tok_ok"}}

    def place(request_id: str = "") -> httpx.Response:
        headers = {**account.auth, **({"X-Request-ID": request_id} if request_id else {})}
        return gateway.post("/orders", json=order, headers=headers)

    calls: dict[str, Callable[[str], httpx.Response]] = {
        "gateway -> identity": lambda rid: gateway.get("/users/me", headers={**account.auth, "X-Request-ID": rid}),
        "gateway -> orders -> identity": place,
    }
    stack.stop_app("identity")
    try:
        for hop, call in calls.items():
            request_id = f"dead-{uuid.uuid4().hex}"
            response = call(request_id)
            body = assert_error(response, 503)
            error: dict[str, Any] = body["error"]  # type: ignore[assignment]
            assert error["code"] in {"SERVICE_UNAVAILABLE", "UPSTREAM_TIMEOUT"}, (hop, body)
            assert set(error) == {"code", "message"}, (hop, body)
            assert not [text for text in INTERNAL_TEXT if text in response.text.lower()], (hop, response.text)
            assert body["requestId"] == request_id
            logged = wait_until(
                partial(gateway_lines, stack, request_id),
                lambda lines: any('"peerStatus": 503' in line for line in lines),
                timeout=10,
                what=f"the gateway's log line of {hop}",
            )
            assert any("identity" in line for line in logged), (hop, logged)  # the log says who it was
    finally:
        stack.start_app("identity")

    def signed_in_again() -> bool:
        return gateway.get("/users/me", headers=account.auth).status_code == 200

    # Breakers towards identity (the gateway's and orders') stay open a few seconds; a trial call closes each.
    wait_for(signed_in_again, timeout=60, interval=1.0, what="the gateway to reach identity again")
    wait_until(lambda: place().status_code, lambda status: status == 201, timeout=60, what="orders to reach identity")
