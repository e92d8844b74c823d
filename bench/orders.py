"""Orders through the gateway: place one, then wait (slowly) until each placed order is final.

An order counts when it is CONFIRMED. Its time to CONFIRMED comes from the order itself, not from
the polling: `updatedAt` is its last status change, written by orders (`createdAt` when it was
placed), on the same clock as this client. The polling only learns whether an order is final, so it
starts once the platform is quiet again and reads a page of a customer's orders at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.shop import Customer

CONFIRMED = "CONFIRMED"
FINAL = frozenset({CONFIRMED, "CANCELLED", "EXPIRED", "FAILED"})
PAGE = 100


@dataclass(frozen=True)
class Placed:
    """What POST /orders answered: the order's id, or why there is none (`<status> <error code>`)."""

    customer: Customer
    product_id: str
    order_id: str | None
    error: str | None = None


def error_of(response: httpx.Response) -> str:
    try:
        code = str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        code = "(no envelope)"
    return f"{response.status_code} {code}"


async def place(client: httpx.AsyncClient, customer: Customer, product_id: str) -> Placed:
    """Order one unit of a product, paid with the card that always succeeds."""
    body = {"items": [{"productId": product_id, "quantity": 1}], "paymentMethod": {"token": "tok_ok"}}
    try:
        answer = await client.post("/orders", json=body, headers=customer.auth)
    except httpx.HTTPError as exc:
        return Placed(customer, product_id, None, type(exc).__name__)
    if answer.status_code != 201:
        return Placed(customer, product_id, None, error_of(answer))
    return Placed(customer, product_id, str(answer.json()["data"]["id"]))


def utc_seconds(text: str) -> float:
    """A Junction timestamp (`2026-03-04T05:06:07.123456Z`) as seconds since the epoch."""
    return datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True)
class OrderView:
    """An order as the gateway shows it, reduced to what the benchmark reads."""

    id: str
    status: str
    created_at: float
    updated_at: float
    total: float
    payment_id: str | None
    units: dict[str, int] = field(default_factory=dict)
    """Units ordered, by product id."""

    @classmethod
    def of(cls, data: dict[str, Any]) -> OrderView:
        """From the order's JSON (OrderRead)."""
        units: dict[str, int] = {}
        for line in data["items"]:
            units[str(line["productId"])] = units.get(str(line["productId"]), 0) + int(line["quantity"])
        payment = data.get("paymentId")
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            created_at=utc_seconds(str(data["createdAt"])),
            updated_at=utc_seconds(str(data["updatedAt"])),
            total=float(data["total"]),
            payment_id=None if payment is None else str(payment),
            units=units,
        )


async def _orders_of(client: httpx.AsyncClient, customer: Customer) -> list[OrderView]:
    """Every order of the customer the list shows (orders placing or failed are not listed)."""
    views: list[OrderView] = []
    offset = 0
    while True:
        answer = await client.get("/orders", params={"limit": PAGE, "offset": offset}, headers=customer.auth)
        answer.raise_for_status()
        page = answer.json()["data"]
        views += [OrderView.of(item) for item in page["items"]]
        offset += PAGE
        if offset >= int(page["total"]) or not page["items"]:
            return views


async def settle(
    client: httpx.AsyncClient, placed: Iterable[Placed], *, interval: float, bound: float
) -> dict[str, OrderView]:
    """The placed orders once each is final, or as they stand `bound` seconds from now.

    Orders missing from the lists at the end (still placing, failed, or never stored) are read one by one.
    """
    owners = {p.order_id: p.customer for p in placed if p.order_id is not None}
    customers = {c.email: c for c in owners.values()}
    views: dict[str, OrderView] = {}
    deadline = time.monotonic() + bound
    while True:
        open_customers = {owners[o].email for o in owners if o not in views or views[o].status not in FINAL}
        if not open_customers:
            return views
        for email in open_customers:
            try:
                listed = await _orders_of(client, customers[email])
            except httpx.HTTPError:
                continue  # a busy moment; the next round asks again
            views.update((v.id, v) for v in listed if v.id in owners)
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(interval)
    for order_id in [o for o in owners if o not in views]:
        answer = await client.get(f"/orders/{order_id}", headers=owners[order_id].auth)
        if answer.status_code == 200:
            views[order_id] = OrderView.of(answer.json()["data"])
    return views
