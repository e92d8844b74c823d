"""The books after the faults: order states, stock, money and tenants, each checked against the guarantees."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.chaos import stores
from tools.chaos.calls import data_of
from tools.chaos.load import APPROVED, Load
from tools.stack import Stack

Json = dict[str, Any]
FINAL = {"CONFIRMED", "CANCELLED", "EXPIRED", "FAILED"}
"""Where an order stops; FAILED is a placement that never took effect (the client got no 201 for it)."""
CLOSED_CHARGES = {"FAILED", "VOIDED", "REFUNDED"}
MONEY_BACK = {"DECLINED", "REFUNDED", "RELEASED", "BLOCKED"}
"""Provider ledger states in which the customer keeps their money."""


@dataclass
class ProductBook:
    id: str
    initial: int
    final: int | None
    confirmed_units: int
    reserved_left: int | None

    @property
    def drift(self) -> int | None:
        """initial - final - units of CONFIRMED orders: 0 when no unit leaked or was sold twice."""
        return None if self.final is None else self.initial - self.final - self.confirmed_units


@dataclass
class Books:
    states: Counter[str] = field(default_factory=Counter)
    products: list[ProductBook] = field(default_factory=list)
    charges: Counter[str] = field(default_factory=Counter)
    ledger: Counter[str] = field(default_factory=Counter)
    """The provider's own entries by status ("none" where it has none), where the payments app keeps them."""
    tenants: Counter[str] = field(default_factory=Counter)
    tenant_retries: int = 0
    orphan_databases: list[str] = field(default_factory=list)
    orders_total: int = 0
    unanswered_orders: int = 0
    """Orders in the system the client never got an answer for (a lost 201)."""
    duplicate_orders: int = 0
    """Orders beyond one per Idempotency-Key sent, counted per customer."""
    open_reservations: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    """Events a subscriber gave up on, by subscriber and topic; none expected: no fault outlasts the retries."""
    wrong_orders: list[tuple[str, str]] = field(default_factory=list)
    """(order id, what went wrong) for accepted orders that did not end as their token and customer said."""
    findings: list[str] = field(default_factory=list)


async def pages(load: Load, path: str, *, bound: int = 100) -> list[Json]:
    """Every item of a paged admin listing; a failed page is asked again (bounded) before giving up."""
    items: list[Json] = []
    for _ in range(bound):
        for attempt in range(5):
            response = await load.recorder.send(
                "GET", path, route=f"GET {path}", params={"limit": 100, "offset": len(items)}, headers=load.admin
            )
            data = data_of(response)
            if "items" in data:
                break
            await asyncio.sleep(1 + attempt)
        else:
            raise RuntimeError(f"GET {path} kept failing while reading the books")
        items.extend(data["items"])
        if not data["items"] or len(items) >= int(data.get("total", 0)):
            return items
    raise RuntimeError(f"GET {path} has more than {bound} pages")


async def settle_orders(load: Load, within: float) -> list[Json]:
    """Wait (bounded) until every order of the run is in a final state; return the orders as they are then."""
    ours = {p.id for p in load.products}
    deadline = time.monotonic() + within
    while True:
        orders = [o for o in await pages(load, "/orders") if {i["productId"] for i in o["items"]} & ours]
        if all(o["status"] in FINAL for o in orders) or time.monotonic() > deadline:
            return orders
        await asyncio.sleep(2)


async def settle_tenants(load: Load, within: float) -> tuple[list[Json], int]:
    """Wait for provisioning to end, retry each FAILED tenant of the run (bounded); return them and the retries."""
    deadline = time.monotonic() + within
    retries = 0
    while True:
        tenants = [t for t in await pages(load, "/tenants") if str(t["subdomain"]).startswith("chaos-")]
        failed = [t for t in tenants if t["status"] == "FAILED"]
        provisioning = [t for t in tenants if t["status"] == "PROVISIONING"]
        if (not failed and not provisioning) or time.monotonic() > deadline:
            return tenants, retries
        for tenant in failed:
            retries += 1
            await load.recorder.send(
                "POST",
                f"/tenants/{tenant['id']}/retry",
                route="POST /tenants/{id}/retry",
                headers=load.admin,
                seconds=load.tenant_budget + 5,
            )
        await asyncio.sleep(2)


async def charges_of(load: Load, order_ids: list[str]) -> dict[str, list[Json] | None]:
    """GET /payments?orderId= for each order (a few at a time); None where it could not be read."""
    gate = asyncio.Semaphore(6)

    async def one(order_id: str) -> list[Json] | None:
        async with gate:
            for attempt in range(3):
                response = await load.recorder.send(
                    "GET", "/payments", route="GET /payments", params={"orderId": order_id}, headers=load.admin
                )
                data = data_of(response)
                if "items" in data:
                    return list(data["items"])
                await asyncio.sleep(1 + attempt)
            return None

    found = await asyncio.gather(*(one(order_id) for order_id in order_ids))
    return dict(zip(order_ids, found, strict=True))


async def final_stock(load: Load) -> dict[str, int | None]:
    stock: dict[str, int | None] = {}
    for product in load.products:
        response = await load.recorder.send(
            "GET",
            f"/products/{product.id}",
            route="GET /products/{id}",
            headers={"Cache-Control": "no-cache"},  # catalog's own count, never the gateway's cached copy
        )
        value = data_of(response).get("stock")
        stock[product.id] = None if value is None else int(value)
    return stock


def expected_status(load: Load) -> dict[str, tuple[set[str], str]]:
    """What each accepted order may end as, and why (its token, or the customer's cancel)."""
    expected: dict[str, tuple[set[str], str]] = {}
    for intent in load.intents:
        if intent.order_id is None:
            continue
        if intent.cancel_acknowledged or (intent.cancel_sent and intent.token != APPROVED):
            expected[intent.order_id] = ({"CANCELLED"}, "cancelled by its customer")
        elif intent.cancel_sent:  # the cancel's answer was lost: it may or may not have been applied
            expected[intent.order_id] = ({"CONFIRMED", "CANCELLED"}, "tok_ok with an unanswered cancel")
        elif intent.token == APPROVED:
            expected[intent.order_id] = ({"CONFIRMED"}, "tok_ok")
        else:
            expected[intent.order_id] = ({"CANCELLED"}, "tok_decline")
    return expected


def check_orders(load: Load, orders: list[Json], books: Books) -> None:
    books.orders_total = len(orders)
    books.states = Counter(o["status"] for o in orders)
    known = {o["id"]: o for o in orders}
    expected = expected_status(load)
    wrong: Counter[str] = Counter()
    for order_id, (allowed, why) in expected.items():
        actual = known.get(order_id, {}).get("status", "MISSING")
        if actual not in allowed:
            wrong[f"{why} order ended {actual} (expected {' or '.join(sorted(allowed))})"] += 1
            books.wrong_orders.append((order_id, f"{why}, ended {actual}"))
    books.findings += [f"{n} {what}" for what, n in sorted(wrong.items())]
    for status, count in sorted(books.states.items()):
        if status not in FINAL:
            books.findings.append(f"{count} orders still {status} after the settle wait")
    if len(expected) < len(load.intents) / 2:
        books.findings.append(f"only {len(expected)} of {len(load.intents)} orders were accepted: too little to check")
    books.unanswered_orders = len(set(known) - set(expected))
    keys = Counter(i.user_id for i in load.intents if i.attempts)
    per_user = Counter(o["userId"] for o in orders if o["status"] != "FAILED")
    books.duplicate_orders = sum(max(0, n - keys[user]) for user, n in per_user.items())
    if books.duplicate_orders:
        books.findings.append(f"{books.duplicate_orders} orders more than Idempotency-Keys sent (retries placed twice)")


def check_stock(load: Load, orders: list[Json], stock: dict[str, int | None], stack: Stack, books: Books) -> None:
    confirmed: Counter[str] = Counter()
    for order in orders:
        if order["status"] == "CONFIRMED":
            for item in order["items"]:
                confirmed[item["productId"]] += int(item["quantity"])
    documents = stores.product_documents(stack)
    unread = [product.id for product in load.products if product.id not in documents]
    if unread:  # the books below would then check nothing
        books.findings.append(f"catalog's store shows no document for products {unread}")
    for product in load.products:
        reserved = documents.get(product.id, {}).get("reserved")
        book = ProductBook(
            product.id,
            product.initial,
            stock[product.id],
            confirmed[product.id],
            None if reserved is None else int(reserved),
        )
        books.products.append(book)
        if book.drift != 0:
            books.findings.append(
                f"product {product.id}: stock drift {book.drift} (initial {book.initial}, "
                f"final {book.final}, confirmed units {book.confirmed_units})"
            )
        if book.reserved_left:
            books.findings.append(f"product {product.id}: {book.reserved_left} units still reserved")
    status_of = {o["id"]: o["status"] for o in orders}
    mismatched: Counter[str] = Counter()
    ours = {p.id for p in load.products}
    reservations = stores.reservations(stack)
    if any(order["status"] == "CONFIRMED" for order in orders) and not reservations:
        books.findings.append("catalog's store shows no reservation, though orders were confirmed")
    for order_id, reservation in reservations.items():
        if not {i["productId"] for i in reservation.get("items", [])} & ours:
            continue
        held, status = reservation.get("status"), status_of.get(order_id, "NO ORDER")
        if held == "RESERVED":
            books.open_reservations += 1
            mismatched[f"reservation left RESERVED (order {status})"] += 1
        elif (held == "COMMITTED") != (status == "CONFIRMED"):
            mismatched[f"reservation {held} for an order {status}"] += 1
    books.findings += [f"{n} x {what}" for what, n in sorted(mismatched.items())]


def check_money(orders: list[Json], charges: dict[str, list[Json] | None], stack: Stack, books: Books) -> None:
    problems: Counter[str] = Counter()
    ledger = stores.provider_ledger(stack)
    if not ledger and any(order["status"] == "CONFIRMED" for order in orders):
        problems["confirmed orders, yet payments' store shows no provider entry"] += 1
    for order in orders:
        if ledger:
            entry = ledger.get(order["id"])
            books.ledger[entry["status"] if entry else "none"] += 1
            held = entry["status"] if entry else None
            if order["status"] == "CONFIRMED" and (entry is None or held != "CAPTURED"):
                problems[f"CONFIRMED order with provider entry {held}"] += 1
            elif (
                order["status"] == "CONFIRMED" and entry and abs(float(entry["amount"]) - float(order["total"])) > 0.005
            ):
                problems["CONFIRMED order captured for another amount than its total"] += 1
            elif order["status"] != "CONFIRMED" and held is not None and held not in MONEY_BACK:
                problems[f"{order['status']} order whose money the provider keeps ({held})"] += 1
        items = charges.get(order["id"])
        if items is None:
            problems["payments could not be read"] += 1
            continue
        statuses = [p["status"] for p in items]
        books.charges.update(statuses or ["none"])
        succeeded = statuses.count("SUCCEEDED")
        if order["status"] == "CONFIRMED" and (succeeded != 1 or len(statuses) != 1):
            problems[f"CONFIRMED order with charges {statuses}"] += 1
        elif order["status"] != "CONFIRMED" and any(s not in CLOSED_CHARGES for s in statuses):
            problems[f"{order['status']} order with charge {statuses} (kept, not refunded)"] += 1
    books.findings += [f"{n} x {what}" for what, n in sorted(problems.items())]


def check_tenants(load: Load, tenants: list[Json], retries: int, stack: Stack, books: Books) -> None:
    books.tenants = Counter(t["status"] for t in tenants)
    books.tenant_retries = retries
    if books.tenants.get("PROVISIONING"):
        stuck = [t for t in tenants if t["status"] == "PROVISIONING"]
        books.findings.append(f"{len(stuck)} tenants stuck in PROVISIONING{_clues(stack, stuck)}")
    if books.tenants.get("FAILED"):
        books.findings.append(f"{books.tenants['FAILED']} tenants still FAILED after bounded retries")
    active = {t["subdomain"] for t in tenants if t["status"] == "ACTIVE"}
    if not active:
        books.findings.append("no tenant of the run became ACTIVE: nothing to check")
    on_disk = {s for s in stores.tenant_databases(stack) if s.startswith("chaos-")}
    books.orphan_databases = sorted(on_disk - active)
    if books.orphan_databases:
        books.findings.append(f"{len(books.orphan_databases)} tenant databases without an ACTIVE tenant")
    if active - on_disk:
        books.findings.append(f"{len(active - on_disk)} ACTIVE tenants without a database")
    listed = {t["subdomain"] for t in tenants}
    lost = [a.subdomain for a in load.tenants if a.outcome == "CREATED" and a.subdomain not in listed]
    if lost:
        books.findings.append(f"{len(lost)} tenants answered 201 but are not listed")


def _clues(stack: Stack, stuck: list[Json], lines: int = 12) -> str:
    """What admin and its sidecar logged about stuck tenants: where each stands, admin's lines naming it,
    and the sidecar's last warnings and errors (its workflow engine), so a red run explains itself."""
    app_log, sidecar_log = stack.app_log("admin").splitlines(), stack.sidecar_log("admin").splitlines()
    found = []
    for tenant in stuck:
        found.append(f"tenant {tenant['id']} at {tenant['step']}, last changed {tenant.get('updatedAt')}")
        found += [line[:300] for line in app_log if tenant["id"] in line][-lines:]
    found.append("admin's sidecar, last warnings and errors:")
    found += [line[:300] for line in sidecar_log if "level=warning" in line or "level=error" in line][-lines:]
    return "".join(f"\n    {line}" for line in found)


async def reconcile(load: Load, stack: Stack, settle_within: float, *, tenants: bool = True) -> Books:
    """Wait (bounded) for the platform to settle, then check every book (the tenants' only with `tenants`:
    a load of orders alone, as tests/e2e/test_replicas.py puts on the stack, creates none)."""
    books = Books()
    orders = await settle_orders(load, settle_within)
    settled_tenants = await settle_tenants(load, within=90) if tenants else None
    check_orders(load, orders, books)
    # Stock and reservations move by events after the order's final state: give them a short, bounded while.
    deadline = time.monotonic() + 20
    while True:
        stock_books = Books()
        check_stock(load, orders, await final_stock(load), stack, stock_books)
        if not stock_books.findings or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    books.products, books.open_reservations = stock_books.products, stock_books.open_reservations
    books.findings += stock_books.findings
    check_money(orders, await charges_of(load, [o["id"] for o in orders]), stack, books)
    if settled_tenants is not None:
        check_tenants(load, *settled_tenants, stack, books)
    letters = await pages(load, "/admin/dead-letters")
    books.dead_letters = Counter(f"{letter['subscriber']} {letter['originalTopic']}" for letter in letters)
    return books
