"""The provider's books on the real stack: one capture per order, refunded once it is cancelled."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_dead_letters import ledger
from tests.e2e.test_order_flow import Json, order_in, payments_of, place
from tests.e2e.test_order_resilience import probe_events
from tools.stack import Stack


def test_a_cancelled_paid_order_is_refunded_once_and_a_redelivered_charge_takes_nothing(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=5)
    order = place(gateway, account, product, 2).json()["data"]
    order_in(gateway, account, order["id"], "CONFIRMED")
    (entry,) = ledger(stack, order["id"])
    assert (entry["status"], entry["captures"], entry["refunds"]) == ("CAPTURED", 1, 0)

    cancelled = gateway.post(f"/orders/{order['id']}/cancel", headers=account.auth)
    assert cancelled.status_code == 200, cancelled.text
    wait_until(
        lambda: payments_of(gateway, account, order["id"]),
        lambda items: items[0]["status"] == "REFUNDED",
        timeout=30,
        what="the refund",
    )
    (original,) = wait_until(lambda: probe_events(stack, "order.created", order["id"]), bool, timeout=20, what="event")
    stack.publish("order.created", original["id"], original["data"])  # a late redelivery of the charge
    time.sleep(3)
    (entry,) = ledger(stack, order["id"])
    assert (entry["status"], entry["captures"], entry["refunds"]) == ("REFUNDED", 1, 1)
    assert [p["status"] for p in payments_of(gateway, account, order["id"])] == ["REFUNDED"]
