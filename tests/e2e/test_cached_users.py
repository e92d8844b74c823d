"""identity's user lookup, cached by orders and the gateway, through real sidecars: while identity is stopped, a
user orders confirmed before places another order, /users/me answers the kept profile marked stale, and a user
never seen gets a 503 from both. The stack's fresh window is USER_CACHE_FRESH_SECONDS (tests/e2e/conftest.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_identity_flow import assert_error
from tests.e2e.test_metrics import scrape, value
from tests.e2e.test_order_flow import Json, place
from tools.stack import AppProcess, Stack

BOUND_SECONDS = 15.0
"""One call while identity is down: identity's budget in the caller's sidecar (6.5 s) and the gRPC deadline (7 s)
come first, then a kept copy or the 503; room for a slow machine."""
WAIT_SECONDS = 60.0
DOWN = {"SERVICE_UNAVAILABLE", "UPSTREAM_TIMEOUT"}


def me(gateway: httpx.Client, account: Account) -> httpx.Response:
    started = time.monotonic()
    response = gateway.get("/users/me", headers=account.auth)
    assert time.monotonic() - started < BOUND_SECONDS, f"/users/me took {time.monotonic() - started:.1f} s"
    return response


def cache_of(response: httpx.Response) -> str:
    return str(response.headers.get("X-Cache", ""))


def stale_answers(app: AppProcess) -> float:
    """How many reads of users `app` answered from a kept copy because identity did not answer."""
    return value(scrape(app), "junction_cached_reads_total", cache="users", outcome="stale")


def test_a_known_user_outlives_identity_and_an_unknown_one_gets_a_503(
    gateway: httpx.Client,
    stack: Stack,
    account: Account,
    other_account: Account,
    make_product: Callable[..., Json],
) -> None:
    product = make_product(stock=10)
    first_order = place(gateway, account, product, 1)  # orders asks identity, and keeps its answer
    assert first_order.status_code == 201, first_order.text
    first = me(gateway, account)
    assert (first.status_code, cache_of(first)) == (200, "MISS"), (first.status_code, first.headers, first.text)
    assert first.json()["data"]["id"] == account.user_id and "stale" not in first.json()
    hit = wait_until(lambda: me(gateway, account), lambda r: cache_of(r) == "HIT", timeout=WAIT_SECONDS, what="a HIT")
    assert hit.json()["data"] == first.json()["data"] and "stale" not in hit.json()
    stale_before = stale_answers(stack.apps["orders"]), stale_answers(stack.apps["gateway"])

    stack.stop_app("identity")  # and its sidecar
    try:
        # Once the fresh window has passed, identity is asked, does not answer, and the kept profile answers.
        stale = wait_until(
            lambda: me(gateway, account), lambda r: cache_of(r) == "STALE", timeout=WAIT_SECONDS, what="STALE"
        )
        assert stale.status_code == 200, stale.text
        assert stale.json()["success"] is True and stale.json()["stale"] is True
        assert stale.json()["data"] == first.json()["data"], "the profile as identity gave it"

        request_id = f"cached-user-{uuid.uuid4().hex}"
        started = time.monotonic()
        second_order = gateway.post(
            "/orders",
            json={"items": [{"productId": product["id"], "quantity": 1}], "paymentMethod": {"token": "tok_ok"}},
            headers={**account.auth, "X-Request-ID": request_id},
        )
        assert second_order.status_code == 201, second_order.text
        assert time.monotonic() - started < BOUND_SECONDS
        assert second_order.json()["data"]["id"] != first_order.json()["data"]["id"]
        wait_until(
            lambda: [line for line in stack.app_log("orders").splitlines() if request_id in line],
            lambda lines: any("a cached copy answered, marked stale" in line for line in lines),
            timeout=10,
            what="orders' log line of the user it accepted from its cache",
        )

        never_seen = assert_error(place(gateway, other_account, product, 1), 503)
        assert never_seen["error"]["code"] in DOWN, never_seen  # type: ignore[index]
        profile = assert_error(me(gateway, other_account), 503)
        assert profile["error"]["code"] in DOWN, profile  # type: ignore[index]
        assert "X-Cache" not in me(gateway, other_account).headers
    finally:
        stack.start_app("identity")

    orders_stale, gateway_stale = stale_answers(stack.apps["orders"]), stale_answers(stack.apps["gateway"])
    assert orders_stale >= stale_before[0] + 1 and gateway_stale >= stale_before[1] + 1, (stale_before, orders_stale)
    # identity is back (the callers' breakers towards it may stay open 3 s): the unknown user is known now.
    back = wait_until(
        lambda: me(gateway, other_account), lambda r: r.status_code == 200, timeout=WAIT_SECONDS, what="identity"
    )
    assert cache_of(back) == "MISS" and back.json()["data"]["id"] == other_account.user_id
    wait_until(
        lambda: place(gateway, other_account, product, 1).status_code,
        lambda status: status == 201,
        timeout=WAIT_SECONDS,
        what="orders to reach identity again",
    )
