"""Bounded growth on the real stack: a poison outbox row is set aside where admin sees it, markers expire."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apps.orders.storage import outbox
from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_order_flow import Json
from tools.stack import Stack
from tools.stack.stores import state_items, with_connection


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
    created = datetime.now(UTC) - timedelta(minutes=1)  # first in line: older than anything
    row = {"event_id": event_id, "topic": "order.created", "body": "{not an envelope", "created_at": created}

    async def put_poison(db: AsyncConnection) -> None:
        await db.execute(insert(outbox).values(**row))

    with_connection(stack.setting("orders", "DATABASE_URL"), put_poison)

    (letter,) = wait_until(
        lambda: orders_letters(gateway, admin_auth, event_id), bool, timeout=30, what="the set-aside outbox row"
    )
    assert letter["originalTopic"] == "order.created"
    assert letter["cloudEvent"]["data"] == {"raw": "{not an envelope"}
    assert letter["cloudEvent"]["junctionerror"].startswith("UNREADABLE_BODY")

    async def read_back(db: AsyncConnection) -> Any:
        query = select(outbox.c.failed_at, outbox.c.error, outbox.c.published_at).where(outbox.c.event_id == event_id)
        return (await db.execute(query)).one()

    failed_at, error, published_at = with_connection(stack.setting("orders", "DATABASE_URL"), read_back)
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
    def markers() -> list[tuple[str, datetime | None]]:
        return [(item.key, item.expires) for item in state_items(stack, "notifications", "applied:")]

    found = wait_until(markers, bool, timeout=30, what="an applied-event marker")
    now = datetime.now(UTC).replace(tzinfo=None)
    for _, expires in found:
        assert expires is not None  # the store forgets it by itself
        remaining = expires - now
        assert timedelta(days=13) < remaining <= timedelta(days=14, minutes=1)
