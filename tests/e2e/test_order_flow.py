"""The order journey through real sidecars and a real broker: reserve, pay, confirm, notify, report."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.e2e.conftest import NO_CACHE, PAYMENT_TIMEOUT_SECONDS, Account, wait_until
from tests.e2e.test_identity_flow import assert_error

Json = dict[str, Any]


def place(
    gateway: httpx.Client, account: Account, product: Json, quantity: int, token: str = "tok_ok"
) -> httpx.Response:
    body = {"items": [{"productId": product["id"], "quantity": quantity}], "paymentMethod": {"token": token}}
    return gateway.post("/orders", json=body, headers=account.auth)


def order_in(gateway: httpx.Client, account: Account, order_id: str, status: str, timeout: float = 20) -> Json:
    def fetch() -> Json:
        data: Json = gateway.get(f"/orders/{order_id}", headers=account.auth).json()["data"]
        return data

    return wait_until(fetch, lambda o: o["status"] == status, timeout=timeout, what=f"order {order_id} {status}")


def stock_of(gateway: httpx.Client, product: Json) -> int:
    stock: int = gateway.get(f"/products/{product['id']}", headers=NO_CACHE).json()["data"]["stock"]
    return stock


def stock_becomes(gateway: httpx.Client, product: Json, stock: int, timeout: float = 20) -> None:
    """Wait for a product's stock: an order's status moves first, its reservation is settled right after."""
    wait_until(lambda: stock_of(gateway, product), lambda now: now == stock, timeout=timeout, what=f"stock {stock}")


def payments_of(gateway: httpx.Client, account: Account, order_id: str) -> list[Json]:
    items: list[Json] = gateway.get("/payments", params={"orderId": order_id}, headers=account.auth).json()["data"][
        "items"
    ]
    return items


def notifications_of(gateway: httpx.Client, account: Account) -> list[Json]:
    items: list[Json] = gateway.get("/notifications", headers=account.auth).json()["data"]["items"]
    return items


def summary(gateway: httpx.Client, admin_auth: dict[str, str]) -> Json:
    data: Json = gateway.get("/reports/summary", headers=admin_auth).json()["data"]
    return data


def test_paid_order_is_confirmed_notified_and_reported(
    gateway: httpx.Client, account: Account, admin_auth: dict[str, str], make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=10, price=12.5)
    before = summary(gateway, admin_auth)
    placed = place(gateway, account, product, 2)
    assert placed.status_code == 201, placed.text
    order = placed.json()["data"]
    assert order["status"] == "PENDING_PAYMENT" and order["total"] == 25.0
    assert order["items"] == [{"productId": product["id"], "name": product["name"], "unitPrice": 12.5, "quantity": 2}]

    confirmed = order_in(gateway, account, order["id"], "CONFIRMED")
    assert confirmed["paymentId"]
    assert stock_of(gateway, product) == 8
    (payment,) = payments_of(gateway, account, order["id"])
    assert payment["status"] == "SUCCEEDED" and payment["amount"] == 25.0
    short = order["id"][:8]
    wait_until(
        lambda: [n["message"] for n in notifications_of(gateway, account)],
        lambda messages: any(short in m and "confirmed" in m and "25.00" in m for m in messages),
        timeout=20,
        what="the confirmation notification",
    )
    after = wait_until(
        lambda: summary(gateway, admin_auth),
        lambda s: s["revenue"] >= before["revenue"] + 25 and s["eventCounts"].get("order.confirmed", 0) > 0,
        timeout=20,
        what="the report to count the order",
    )
    assert after["ordersByStatus"]["CONFIRMED"] >= 1


def test_declined_payment_cancels_and_gives_stock_back(
    gateway: httpx.Client, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=4)
    placed = place(gateway, account, product, 3, token="tok_decline")
    assert placed.status_code == 201, placed.text
    cancelled = order_in(gateway, account, placed.json()["data"]["id"], "CANCELLED")
    assert cancelled["cancelReason"] == "INSUFFICIENT_FUNDS"
    stock_becomes(gateway, product, 4)
    wait_until(
        lambda: [n["message"].lower() for n in notifications_of(gateway, account)],
        lambda messages: any("insufficient funds" in m for m in messages),
        timeout=20,
        what="a notification saying why",
    )


def test_bad_orders_are_refused_and_write_nothing(
    gateway: httpx.Client, account: Account, other_account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=3)
    unknown = {"id": f"missing-{uuid.uuid4().hex}", "name": "?"}
    assert_error(place(gateway, account, unknown, 1), 404, "PRODUCT_NOT_FOUND")
    assert_error(place(gateway, account, product, 4), 409, "OUT_OF_STOCK")
    assert_error(place(gateway, account, product, 0), 422)
    assert_error(place(gateway, account, product, -2), 422)
    no_items = gateway.post("/orders", json={"items": [], "paymentMethod": {"token": "tok_ok"}}, headers=account.auth)
    assert_error(no_items, 422)
    assert_error(gateway.post("/orders", json={"items": []}), 401)
    assert stock_of(gateway, product) == 3
    assert gateway.get("/orders", headers=account.auth).json()["data"]["total"] == 0

    mine = place(gateway, account, product, 1).json()["data"]
    assert_error(gateway.get(f"/orders/{mine['id']}", headers=other_account.auth), 404, "ORDER_NOT_FOUND")
    assert_error(gateway.post(f"/orders/{mine['id']}/cancel", headers=other_account.auth), 404, "ORDER_NOT_FOUND")
    assert_error(gateway.get("/payments", params={"orderId": mine["id"]}, headers=other_account.auth), 404)


def test_parallel_orders_for_the_last_units_never_oversell(
    gateway: httpx.Client, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=5)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: place(gateway, account, product, 1), range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 5, [r.text for r in responses if r.status_code not in (201, 409)]
    assert statuses.count(409) == 15
    for response in responses:
        if response.status_code == 201:
            order_in(gateway, account, response.json()["data"]["id"], "CONFIRMED")
    assert stock_of(gateway, product) == 0


def test_cancelling_a_paid_order_refunds_and_restores_stock(
    gateway: httpx.Client, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=6)
    order = place(gateway, account, product, 2).json()["data"]
    order_in(gateway, account, order["id"], "CONFIRMED")
    cancelled = gateway.post(f"/orders/{order['id']}/cancel", headers=account.auth)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["status"] == "CANCELLED"
    stock_becomes(gateway, product, 6)
    wait_until(
        lambda: payments_of(gateway, account, order["id"]),
        lambda items: bool(items) and items[0]["status"] == "REFUNDED",
        timeout=20,
        what="the refund",
    )
    again = gateway.post(f"/orders/{order['id']}/cancel", headers=account.auth)
    assert again.status_code == 200 and again.json()["data"]["status"] == "CANCELLED"
    assert stock_of(gateway, product) == 6


def test_unpaid_order_expires_and_releases_stock(
    gateway: httpx.Client, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=2)
    order = place(gateway, account, product, 2, token="tok_hold").json()["data"]
    assert stock_of(gateway, product) == 0
    order_in(gateway, account, order["id"], "EXPIRED", timeout=PAYMENT_TIMEOUT_SECONDS + 20)
    stock_becomes(gateway, product, 2)
    wait_until(
        lambda: payments_of(gateway, account, order["id"]),
        lambda items: bool(items) and items[0]["status"] == "VOIDED",
        timeout=20,
        what="the held payment to be voided",
    )
