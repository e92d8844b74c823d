"""Faults in the order flow: redelivery, poison events, dead services, a relay that never ran."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from tests.e2e.conftest import Account, event_counts, wait_until
from tests.e2e.test_identity_flow import assert_error
from tests.e2e.test_order_flow import Json, order_in, payments_of, place, stock_of
from tools.stack import Stack


def probe_events(stack: Stack, topic: str, order_id: str) -> list[Json]:
    received = httpx.get(f"{stack.apps['probe'].app_url}/received", timeout=5).json()
    return [
        e["event"]
        for e in received
        if e["topic"] == topic and e["event"].get("data", {}).get("payload", {}).get("orderId") == order_id
    ]


def test_redelivered_order_created_charges_once(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=5)
    order = place(gateway, account, product, 1).json()["data"]
    order_in(gateway, account, order["id"], "CONFIRMED")
    (original,) = wait_until(lambda: probe_events(stack, "order.created", order["id"]), bool, timeout=20, what="event")
    stack.publish("order.created", original["id"], original["data"])
    wait_until(
        lambda: probe_events(stack, "order.created", order["id"]), lambda e: len(e) == 2, timeout=20, what="redelivery"
    )
    deadline = time.monotonic() + 3  # payments got the copy as the probe did; give it time to (not) act
    while time.monotonic() < deadline:
        assert len(payments_of(gateway, account, order["id"])) == 1
        time.sleep(0.5)
    assert payments_of(gateway, account, order["id"])[0]["status"] == "SUCCEEDED"
    assert order_in(gateway, account, order["id"], "CONFIRMED")
    assert stock_of(gateway, product) == 4


def test_poison_event_goes_to_dead_letters_and_replays_once_fixed(
    gateway: httpx.Client, stack: Stack, account: Account, admin_auth: dict[str, str], make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=3)
    order = place(gateway, account, product, 1, token="tok_hold").json()["data"]
    event_id = uuid.uuid4().hex
    poison = {
        "eventId": event_id,
        "schemaVersion": 1,
        "occurredAt": datetime.now(UTC).isoformat(),  # within the replay horizon
        "requestId": None,
        "payload": {"orderID": order["id"], "paymentId": "pay-manual", "amount": 12.5, "userId": account.user_id},
    }
    stack.publish("payment.succeeded", event_id, poison)

    def listed() -> list[Json]:
        items: list[Json] = gateway.get("/admin/dead-letters", headers=admin_auth).json()["data"]["items"]
        return [d for d in items if d["eventId"] == event_id and d["subscriber"] == "orders"]

    # Every subscriber of payment.succeeded refuses it, each into its own letter; orders' is the one to fix.
    (dead,) = wait_until(listed, bool, timeout=30, what="orders' letter of the poison event")
    assert dead["originalTopic"] == "payment.succeeded" and dead["status"] == "PENDING"
    assert order_in(gateway, account, order["id"], "PENDING_PAYMENT")
    assert_error(gateway.post(f"/admin/dead-letters/{dead['id']}/replay"), 401)

    fixed = {**poison["payload"], "orderId": order["id"]}  # type: ignore[dict-item]
    fixed.pop("orderID")
    replayed = gateway.post(f"/admin/dead-letters/{dead['id']}/replay", json={"payload": fixed}, headers=admin_auth)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["data"]["status"] == "REPLAYED"
    order_in(gateway, account, order["id"], "CONFIRMED")
    assert stock_of(gateway, product) == 2


def test_orders_wait_while_payments_is_down_and_none_is_lost(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=10)
    stack.stop_app("payments")
    try:
        orders = [place(gateway, account, product, 1).json()["data"] for _ in range(3)]
        time.sleep(1)  # would-be payment time: nothing may move while payments is down
        for order in orders:
            assert order_in(gateway, account, order["id"], "PENDING_PAYMENT")
    finally:
        stack.start_app("payments")
    for order in orders:
        order_in(gateway, account, order["id"], "CONFIRMED", timeout=40)
        assert len(payments_of(gateway, account, order["id"])) == 1
    assert stock_of(gateway, product) == 7


# The run file's health pace (dapr.yaml: appHealthProbeInterval x appHealthThreshold): how long an app
# may fail its probes before its sidecar calls it unhealthy and stops its subscriptions.
HEALTH_THRESHOLD_SECONDS = 2 * 15
# Once the app answers again, the events its sidecar held when it stopped come back through the broker's
# own redelivery: RabbitMQ, JetStream and Kafka return them when the consumer stops (RabbitMQ's through
# components-contrib patch 0006), Redis once they have been pending for its processingTimeout (60 s).
BACK_WITHIN_SECONDS = 90


def test_a_subscriber_hung_past_its_health_threshold_gets_every_event_once_when_back(
    gateway: httpx.Client,
    stack: Stack,
    account: Account,
    admin_auth: dict[str, str],
    make_product: Callable[..., Json],
) -> None:
    product = make_product(stock=10)
    before = event_counts(gateway, admin_auth)
    unhealthy_before = stack.sidecar_log("analytics").count("App entered un-healthy status")
    # Frozen, not dead: each delivery into analytics times out (3 s) instead of being refused, so the
    # sidecar still holds them, retrying, when its probes give up on the app and it stops subscribing.
    stack.pause_app("analytics")
    try:
        orders = [place(gateway, account, product, 1).json()["data"] for _ in range(4)]
        for order in orders:
            order_in(gateway, account, order["id"], "CONFIRMED")
        wait_until(
            lambda: stack.sidecar_log("analytics").count("App entered un-healthy status"),
            lambda seen: seen > unhealthy_before,
            timeout=HEALTH_THRESHOLD_SECONDS + 30,
            what="analytics' sidecar to call its app unhealthy",
        )
    finally:
        stack.pause_app("analytics", paused=False)

    def counted() -> dict[str, int]:
        return {topic: n - before.get(topic, 0) for topic, n in event_counts(gateway, admin_auth).items()}

    wait_until(
        counted,
        lambda c: all(
            c.get(topic, 0) >= len(orders) for topic in ("order.created", "payment.succeeded", "order.confirmed")
        ),
        timeout=BACK_WITHIN_SECONDS,
        what="analytics to count the events of the orders placed while it hung",
    )
    time.sleep(2)  # a duplicate would be counted by now
    counts = counted()
    assert [counts[t] for t in ("order.created", "payment.succeeded", "order.confirmed")] == [len(orders)] * 3, counts


def test_catalog_down_gives_503_opens_the_breaker_and_recovers(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=10)
    stack.stop_app("catalog")
    try:
        for _ in range(3):
            started = time.monotonic()
            response = place(gateway, account, product, 1)
            assert_error(response, 503)
            assert time.monotonic() - started < 15
        wait_until(
            lambda: stack.sidecar_log("orders").lower(),
            lambda log: "circuit breaker" in log and "open" in log,
            timeout=10,
            what="the breaker towards catalog to open",
        )
        assert gateway.get("/orders", headers=account.auth).json()["data"]["total"] == 0
    finally:
        stack.start_app("catalog")

    def placed_again() -> int:
        return place(gateway, account, product, 1).status_code

    wait_until(placed_again, lambda status: status == 201, timeout=60, what="orders to succeed again")
    assert stock_of(gateway, product) == 9


def test_events_committed_before_a_crash_are_published_once_after_restart(
    gateway: httpx.Client, stack: Stack, account: Account, make_product: Callable[..., Json]
) -> None:
    product = make_product(stock=5)
    stack.stop_app("orders")
    stack.start_app("orders", env={"OUTBOX_RELAY": "false"})
    try:
        order = place(gateway, account, product, 1).json()["data"]
        time.sleep(2)  # a running relay would have published by now
        assert probe_events(stack, "order.created", order["id"]) == []
        stack.kill_app("orders")
    finally:
        stack.stop_app("orders")
        stack.start_app("orders", env={"OUTBOX_RELAY": "true"})
    events = wait_until(
        lambda: probe_events(stack, "order.created", order["id"]), bool, timeout=20, what="the relayed event"
    )
    order_in(gateway, account, order["id"], "CONFIRMED")
    assert len(probe_events(stack, "order.created", order["id"])) == len(events) == 1


def test_dashboard_degrades_per_section_when_a_service_is_down(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str]
) -> None:
    healthy = gateway.get("/admin/dashboard", headers=admin_auth)
    assert healthy.status_code == 200, healthy.text
    assert {name: s["status"] for name, s in healthy.json()["data"].items()} == {
        "products": "ok",
        "orders": "ok",
        "reports": "ok",
        "deadLetters": "ok",
    }
    stack.stop_app("analytics")
    try:
        degraded = gateway.get("/admin/dashboard", headers=admin_auth)
        assert degraded.status_code == 200, degraded.text
        sections = degraded.json()["data"]
        assert sections["reports"]["status"] == "unavailable" and sections["reports"]["error"]["code"]
        assert sections["products"]["status"] == sections["orders"]["status"] == "ok"
        assert_error(gateway.get("/reports/summary", headers=admin_auth), 503)
    finally:
        stack.start_app("analytics")
    # The gateway's breaker towards analytics opened above; leave only once it lets calls through again.
    wait_until(
        lambda: gateway.get("/reports/summary", headers=admin_auth).status_code,
        lambda status: status == 200,
        timeout=60,
        what="reports to be reachable again",
    )
