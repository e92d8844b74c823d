"""Bounded growth on the real stack: a poison outbox row is set aside where admin sees it, markers expire."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_order_flow import Json
from tools.stack import Stack


def orders_letters(gateway: httpx.Client, admin_auth: dict[str, str], event_id: str) -> list[Json]:
    response = gateway.get("/admin/dead-letters", params={"limit": 100}, headers=admin_auth)
    items: list[Json] = response.json()["data"]["items"]
    return [letter for letter in items if letter["eventId"] == event_id and letter["subscriber"] == "orders"]


def test_an_unreadable_outbox_row_is_set_aside_to_admin_and_the_rest_still_flow(
    gateway: httpx.Client,
    stack: Stack,
    admin_auth: dict[str, str],
    account: Account,
    make_product: Callable[..., dict[str, Any]],
) -> None:
    event_id = uuid.uuid4().hex
    created = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(stack.run_dir / "orders.db", timeout=10) as db:  # first in line: older than anything
        db.execute(
            "INSERT INTO outbox (event_id, topic, body, created_at) VALUES (?, ?, ?, ?)",
            (event_id, "order.created", "{not an envelope", created),
        )

    (letter,) = wait_until(
        lambda: orders_letters(gateway, admin_auth, event_id), bool, timeout=30, what="the set-aside outbox row"
    )
    assert letter["originalTopic"] == "order.created"
    assert letter["cloudEvent"]["data"] == {"raw": "{not an envelope"}
    assert letter["cloudEvent"]["junctionerror"].startswith("UNREADABLE_BODY")
    with sqlite3.connect(stack.run_dir / "orders.db", timeout=10) as db:
        failed_at, error, published_at = db.execute(
            "SELECT failed_at, error, published_at FROM outbox WHERE event_id = ?", (event_id,)
        ).fetchone()
    assert (failed_at is not None, error.startswith("UNREADABLE_BODY"), published_at) == (True, True, None)

    # The rows behind it still go out: a new order's events reach payments and notifications.
    product = make_product(stock=5)
    body = {"items": [{"productId": product["id"], "quantity": 1}], "paymentMethod": {"token": "tok_ok"}}
    placed = gateway.post("/orders", json=body, headers=account.auth)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["data"]["id"]
    wait_until(
        lambda: gateway.get(f"/orders/{order_id}", headers=account.auth).json()["data"]["status"],
        lambda status: status == "CONFIRMED",
        timeout=30,
        what="the order placed after the poison row to be confirmed",
    )


def test_notifications_mark_an_applied_event_with_a_ttl_in_the_real_store(stack: Stack, account: Account) -> None:
    def markers() -> list[tuple[str, str | None]]:
        with sqlite3.connect(stack.run_dir / "state-notifications.db", timeout=10) as db:
            rows = db.execute("SELECT key, expiration_time FROM state WHERE key LIKE 'notifications||applied:%'")
            return [(str(key), expires) for key, expires in rows.fetchall()]

    found = wait_until(markers, bool, timeout=30, what="an applied-event marker")
    now = datetime.now(UTC).replace(tzinfo=None)
    for _, expires in found:
        assert expires is not None  # the store forgets it by itself
        remaining = datetime.fromisoformat(str(expires).replace("Z", "")) - now
        assert timedelta(days=13) < remaining <= timedelta(days=14, minutes=1)
