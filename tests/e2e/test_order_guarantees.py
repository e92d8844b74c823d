"""Order guarantees through real sidecars: idempotent placement, no reservation outliving its order, the row decides.

Some tests restart orders with a short placing deadline (and put the defaults back afterwards), or stop
catalog: they leave the stack as they found it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PAYMENT_TIMEOUT_SECONDS, Account, wait_until
from tests.e2e.test_identity_flow import assert_error
from tests.e2e.test_order_flow import Json, order_in, payments_of, stock_of
from tools.stack import Stack
from tools.stack.stores import query

SHORT_PLACING = {"PLACE_BUDGET_SECONDS": "4", "PLACING_DEADLINE_SECONDS": "8"}
DEFAULT_PLACING = {"PLACE_BUDGET_SECONDS": "15", "PLACING_DEADLINE_SECONDS": "60"}


def place(
    gateway: httpx.Client, account: Account, product: Json, quantity: int, *, key: str | None, token: str = "tok_ok"
) -> httpx.Response:
    body = {"items": [{"productId": product["id"], "quantity": quantity}], "paymentMethod": {"token": token}}
    headers = {**account.auth, **({"Idempotency-Key": key} if key is not None else {})}
    return gateway.post("/orders", json=body, headers=headers)


def stored_orders(stack: Stack, user_id: str) -> list[tuple[str, str, str | None]]:
    """(id, status, reason) of a user's rows in orders' database, internal statuses included (read-only)."""
    sql = "SELECT id, status, cancel_reason FROM orders WHERE user_id = :user_id ORDER BY created_at"
    rows = query(stack.setting("orders", "DATABASE_URL"), sql, {"user_id": user_id})
    return [(str(a), str(b), c) for a, b, c in rows]


def reservation(stack: Stack, order_id: str) -> Json:
    """catalog's record of an order's reservation, asked of catalog itself (no peer may read it through the mesh)."""
    catalog = stack.apps["catalog"]
    response = httpx.get(
        f"{catalog.app_url}/reservations/{order_id}", headers={"dapr-api-token": catalog.app_token}, timeout=10
    )
    body: Json = response.json()
    return body


def refused_late(stack: Stack, order_id: str, product: Json, quantity: int) -> Json:
    """A late reserve for a released order id, answered by catalog (repeated while a sidecar is not ready)."""
    return wait_until(
        lambda: reserve_directly(stack, order_id, product, quantity),
        lambda body: "statusCode" in body,
        timeout=30,
        what="catalog to answer the late reserve",
    )


def reserve_directly(stack: Stack, order_id: str, product: Json, quantity: int) -> Json:
    """A reserve for an order id reaching catalog through orders' sidecar (as a late or orphaned call would)."""
    items = [{"productId": product["id"], "quantity": quantity}]
    body: Json = stack.invoke("orders", "catalog", "/reservations", json={"orderId": order_id, "items": items}).json()
    return body


@pytest.fixture
def short_placing(stack: Stack) -> Iterator[None]:
    """orders with a placing deadline of seconds, so the reaper can be watched; the defaults come back after."""
    stack.stop_app("orders")
    stack.start_app("orders", env=SHORT_PLACING)
    try:
        yield
    finally:
        stack.stop_app("orders")
        stack.start_app("orders", env=DEFAULT_PLACING)


def test_the_same_key_places_one_order_with_one_reservation_and_one_charge(
    gateway: httpx.Client, account: Account, other_account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=10)
    key = f"checkout-{uuid.uuid4()}"
    first = place(gateway, account, product, 2, key=key)
    assert first.status_code == 201, first.text
    again = place(gateway, account, product, 2, key=key)
    assert again.status_code == 201, again.text
    order = first.json()["data"]
    assert again.json()["data"]["id"] == order["id"]
    order_in(gateway, account, order["id"], "CONFIRMED")
    assert place(gateway, account, product, 2, key=key).json()["data"]["status"] == "CONFIRMED"  # the same order
    assert stock_of(gateway, product) == 8
    assert len(payments_of(gateway, account, order["id"])) == 1
    assert gateway.get("/orders", headers=account.auth).json()["data"]["total"] == 1

    theirs = place(gateway, other_account, product, 1, key=key)  # keys are per customer
    assert theirs.status_code == 201 and theirs.json()["data"]["id"] != order["id"]
    assert_error(place(gateway, account, product, 3, key=key), 422, "IDEMPOTENCY_KEY_REUSED")
    assert_error(place(gateway, account, product, 1, key="x" * 129), 400, "INVALID_IDEMPOTENCY_KEY")
    assert stock_of(gateway, product) == 7


def test_a_refusal_still_reaches_the_client_and_its_key_stays_refused(
    gateway: httpx.Client, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=1)
    key = uuid.uuid4().hex
    assert_error(place(gateway, account, product, 2, key=key), 409, "OUT_OF_STOCK")
    refused = assert_error(place(gateway, account, product, 2, key=key), 409, "ORDER_NOT_PLACED")
    assert refused["error"]["details"] == {"reason": "OUT_OF_STOCK"}  # type: ignore[index]
    assert stock_of(gateway, product) == 1
    assert gateway.get("/orders", headers=account.auth).json()["data"]["total"] == 0


def test_a_retry_with_the_same_key_completes_a_placement_catalog_never_answered(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=5)
    key = uuid.uuid4().hex
    stack.stop_app("catalog")
    try:
        assert_error(place(gateway, account, product, 2, key=key), 503)
        ((order_id, status, _),) = stored_orders(stack, account.user_id)
        assert status == "PLACING"
        assert_error(gateway.get(f"/orders/{order_id}", headers=account.auth), 404, "ORDER_NOT_FOUND")
    finally:
        stack.start_app("catalog")
    retried = wait_until(
        lambda: place(gateway, account, product, 2, key=key),
        lambda response: response.status_code == 201,
        timeout=60,
        what="the same key to complete the placement",
    )
    assert retried.json()["data"]["id"] == order_id
    order_in(gateway, account, order_id, "CONFIRMED")
    assert stock_of(gateway, product) == 3
    assert len(payments_of(gateway, account, order_id)) == 1


@pytest.mark.usefixtures("short_placing")
def test_a_reservation_whose_placement_died_is_released_by_the_reaper(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=5)
    key = uuid.uuid4().hex
    stack.stop_app("catalog")
    try:
        assert_error(place(gateway, account, product, 2, key=key), 503)  # recorded PLACING, nothing reserved
        ((order_id, status, _),) = stored_orders(stack, account.user_id)
        assert status == "PLACING"
        # orders dies before its reaper could close the placement (however long catalog takes to come
        # back); the reserve it had sent reaches catalog anyway.
        stack.kill_app("orders")
    finally:
        stack.start_app("catalog")
    try:
        # orders' sidecar may still hold its breaker towards catalog open: the reserve is idempotent, repeat it.
        wait_until(
            lambda: reserve_directly(stack, order_id, product, 2),
            lambda body: body.get("success") is True and body["data"]["status"] == "RESERVED",
            timeout=30,
            what="catalog to apply the orphaned reserve",
        )
        assert stock_of(gateway, product) == 3
    finally:
        stack.stop_app("orders")
        stack.start_app("orders", env=SHORT_PLACING)
    wait_until(
        lambda: stock_of(gateway, product), lambda stock: stock == 5, timeout=40, what="the reaper to release the units"
    )
    assert stored_orders(stack, account.user_id) == [(order_id, "FAILED", "PLACING_TIMEOUT")]
    assert reservation(stack, order_id)["data"]["status"] == "RELEASED"
    late = refused_late(stack, order_id, product, 2)  # a reserve arriving after the release is refused
    assert (late["success"], late["statusCode"], late["error"]["code"]) == (False, 409, "RESERVATION_RELEASED")
    assert stock_of(gateway, product) == 5
    assert gateway.get("/orders", headers=account.auth).json()["data"]["total"] == 0
    assert_error(place(gateway, account, product, 2, key=key), 409, "ORDER_NOT_PLACED")


@pytest.mark.usefixtures("short_placing")
def test_a_placement_that_never_reserved_is_closed_and_its_order_id_fenced(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=4)
    stack.stop_app("catalog")
    try:
        assert_error(place(gateway, account, product, 1, key=uuid.uuid4().hex), 503)
    finally:
        stack.start_app("catalog")
    ((order_id, _, _),) = stored_orders(stack, account.user_id)
    wait_until(
        lambda: stored_orders(stack, account.user_id)[0][1],
        lambda status: status == "FAILED",
        timeout=40,
        what="the reaper to close the placement",
    )
    wait_until(
        lambda: reservation(stack, order_id).get("data") or {},
        lambda found: found.get("status") == "RELEASED",
        timeout=20,
        what="a RELEASED tombstone in catalog",
    )
    late = refused_late(stack, order_id, product, 1)
    assert (late["success"], late["statusCode"], late["error"]["code"]) == (False, 409, "RESERVATION_RELEASED")
    assert stock_of(gateway, product) == 4


def test_expiry_does_not_wait_for_catalog_and_a_late_payment_changes_nothing(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=3)
    placed = place(gateway, account, product, 2, key=None, token="tok_hold")
    assert placed.status_code == 201, placed.text
    order = placed.json()["data"]
    stack.stop_app("catalog")
    try:
        order_in(gateway, account, order["id"], "EXPIRED", timeout=PAYMENT_TIMEOUT_SECONDS + 20)
        late: dict[str, Any] = {
            "eventId": uuid.uuid4().hex,
            "schemaVersion": 1,
            "occurredAt": "2026-12-01T10:00:00Z",
            "requestId": None,
            "payload": {"orderId": order["id"], "paymentId": "pay-late", "amount": 25.0, "userId": account.user_id},
        }
        stack.publish("payment.succeeded", late["eventId"], late)
    finally:
        stack.start_app("catalog")
    wait_until(
        lambda: stock_of(gateway, product), lambda stock: stock == 3, timeout=60, what="the expired order's release"
    )
    deadline = time.monotonic() + 3  # the late payment was delivered meanwhile: the order stays as it is
    while time.monotonic() < deadline:
        assert order_in(gateway, account, order["id"], "EXPIRED")
        time.sleep(0.5)
    assert reservation(stack, order["id"])["data"]["status"] == "RELEASED"
    assert stock_of(gateway, product) == 3
