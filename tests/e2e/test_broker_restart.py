"""The profile's broker is killed (SIGKILL) and started again in the middle of a stream of orders:
every order still settles, each paid order is captured exactly once, and every consumer applies each
event once — on whichever broker the profile runs (JUNCTION_PROFILE)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from tests.e2e.conftest import NO_CACHE, Account, event_counts, wait_until
from tests.e2e.test_dead_letters import ledger
from tests.e2e.test_order_flow import Json, place
from tools.stack import Stack

ORDERS = 12
SETTLED = {"CONFIRMED", "CANCELLED", "EXPIRED"}


def _status(gateway: httpx.Client, account: Account, order_id: str) -> str:
    return str(gateway.get(f"/orders/{order_id}", headers=account.auth).json()["data"]["status"])


def test_a_broker_restart_mid_stream_loses_no_event_and_applies_none_twice(
    gateway: httpx.Client,
    stack: Stack,
    account: Account,
    admin_auth: dict[str, str],
    make_product: Callable[..., Json],
) -> None:
    product = make_product(stock=ORDERS * 2)
    counts_before = event_counts(gateway, admin_auth)
    placed: list[str] = []
    placing_done = threading.Event()

    def place_all() -> None:
        try:
            for _ in range(ORDERS):
                answer = place(gateway, account, product, 1)
                if answer.status_code == 201:
                    placed.append(answer.json()["data"]["id"])
                time.sleep(0.25)
        finally:
            placing_done.set()

    placer = threading.Thread(target=place_all)
    placer.start()
    time.sleep(0.75)
    stack.kill_broker()
    time.sleep(2)
    stack.start_broker()
    placer.join(timeout=120)
    assert placing_done.is_set()
    assert len(placed) >= ORDERS // 2, "orders are accepted while the broker restarts (the outbox holds events)"

    for order_id in placed:
        wait_until(
            lambda order_id=order_id: _status(gateway, account, order_id),  # type: ignore[misc]
            lambda status: status in SETTLED,
            timeout=150,
            what=f"order {order_id} to settle",
        )
    for order_id in placed:
        entries = ledger(stack, order_id)
        if _status(gateway, account, order_id) == "CONFIRMED":
            assert [(e["status"], e["captures"]) for e in entries] == [("CAPTURED", 1)], (order_id, entries)
        else:  # an order that expired while its payment.succeeded was held up gets its money back
            wait_until(
                lambda order_id=order_id: ledger(stack, order_id),  # type: ignore[misc]
                lambda entries: all(e["captures"] - e["refunds"] <= 0 for e in entries),
                timeout=60,
                what=f"the money of unpaid order {order_id} to be back",
            )

    def counted() -> dict[str, int]:
        return {topic: n - counts_before.get(topic, 0) for topic, n in event_counts(gateway, admin_auth).items()}

    # analytics counts each event once: one order.created per order that was placed, never more.
    counts = wait_until(
        counted, lambda c: c.get("order.created", 0) >= len(placed), timeout=60, what="analytics to count the orders"
    )
    assert counts["order.created"] == len(placed), counts
    stock = gateway.get(f"/products/{product['id']}", headers=NO_CACHE).json()["data"]["stock"]
    confirmed = sum(_status(gateway, account, order_id) == "CONFIRMED" for order_id in placed)
    assert stock == ORDERS * 2 - confirmed, "stock moves once per confirmed order"
