"""Two instances each of orders, payments and catalog under one app id, through real sidecars and brokers.

The file boots a stack of its own (`Stack(replicas=2)`, what `make run REPLICAS=2` runs): each instance is
its own app process beside its own daprd, on ports of its own, with the app's id, components, database
and state. What it shows, counted per instance from each app process's own metrics port:

- service invocation spreads over both instances (daprd picks one of the id's addresses in the SQLite
  name-resolution table at random, call by call);
- the instances of a subscriber compete for its events: each event is applied by one of them, once;
- two catalogs racing for the last units of one product sell each unit once (ETags on the shared state);
- SIGKILL of one instance of each (app and sidecar) in the middle of a load loses nothing: the chaos
  suite's books balance (tools/chaos/books.py).

Every profile's broker shares an app's events among its instances (docs/scaling.md, per broker).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.conftest import NO_CACHE, OWN_STACKS, Account, sign_in_as_admin, wait_until
from tests.e2e.test_metrics import scrape
from tests.e2e.test_order_flow import Json, order_in, place, stock_becomes
from tools.chaos import stores
from tools.chaos.books import reconcile
from tools.chaos.calls import Recorder
from tools.chaos.errors import classify
from tools.chaos.faults import Window
from tools.chaos.load import prepare
from tools.chaos.plan import Plan
from tools.chaos.report import render
from tools.chaos.run import UNLIMITED, Outcome, breaker_open_seconds, budget_of
from tools.servers.replicas import REPLICATED
from tools.stack import AppProcess, Stack
from tools.stack.stack import new_run_dir

pytestmark = pytest.mark.timeout(420)  # the first test boots the stack: 12 apps and 12 sidecars on 2 cores
REPLICAS = 2
PAYMENT_WINDOW = 90
"""orders' PAYMENT_TIMEOUT_SECONDS here: longer than a killed subscriber's events take to come back (Redis
Streams and JetStream hand them to the other instance after 60 s: processingTimeout, ackWait)."""
NAME_RESOLUTION_SECONDS = 3.0
"""How long a killed instance may still be picked: its row counts until it is updateInterval (2 s, config/)
old, and it was renewed up to a second before the kill."""
KILL_PLAN = Plan(
    "replicas",
    customers=8,
    products=3,
    scarce_stock=30,
    scarce_share=0.2,
    order_workers=4,
    order_interval=1.0,
    max_orders=300,
    cancel_every=6,
    tenant_workers=0,
    warmup=10.0,
    after=20.0,
    payment_window=PAYMENT_WINDOW,
    settle_margin=30.0,
    load_cap=90.0,
)
"""About 4 orders/s for 30 s, the kill 10 s in; the payment window bounds how long the books wait."""


@pytest.fixture(scope="module")
def replicas() -> Iterator[Stack]:
    stack = Stack(
        new_run_dir("test-runs", "replicas"),
        replicas=REPLICAS,
        rate_limit_tiers=UNLIMITED,
        app_env={"orders": {"PAYMENT_TIMEOUT_SECONDS": str(PAYMENT_WINDOW)}},
    )
    OWN_STACKS.append(stack)
    try:
        stack.start()
        yield stack
    finally:
        OWN_STACKS.remove(stack)
        stack.stop()


@pytest.fixture(scope="module")
def client(replicas: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{replicas.apps['gateway'].app_url}/api/v1", timeout=30) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, str]:
    return sign_in_as_admin(client)


@pytest.fixture
def customer(client: httpx.Client) -> Account:
    email, password = f"replica-{uuid.uuid4().hex[:12]}@example.com", "correct horse battery"
    registered = client.post("/auth/register", json={"email": email, "password": password, "name": "Ada"})
    assert registered.status_code == 201, registered.text
    login = client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return Account(email, password, login.json()["data"]["accessToken"], registered.json()["data"]["id"])


def new_product(client: httpx.Client, admin: dict[str, str], stock: int) -> Json:
    sku = f"REPLICA-{uuid.uuid4().hex[:10]}"
    created = client.post("/products", json={"sku": sku, "name": sku, "price": 4.5, "stock": stock}, headers=admin)
    assert created.status_code == 201, created.text
    product: Json = created.json()["data"]
    return product


def counted(app: AppProcess, name: str, **labels: str) -> float:
    """The sum of an instance's samples of `name` whose labels include `labels` (from its own metrics port)."""
    wanted = set(labels.items())
    return sum(value for (sample, tags), value in scrape(app).items() if sample == name and wanted <= tags)


def per_instance(stack: Stack, app_id: str, name: str, **labels: str) -> dict[str, float]:
    return {app.name: counted(app, name, **labels) for app in stack.instances(app_id)}


def since(before: dict[str, float], now: dict[str, float]) -> dict[str, float]:
    return {instance: now[instance] - before[instance] for instance in now}


def requests_to(stack: Stack, app_id: str, method: str, route: str) -> dict[str, float]:
    return per_instance(stack, app_id, "junction_http_requests_total", method=method, route=route)


def deliveries_to(stack: Stack, app_id: str, topic: str, outcome: str) -> dict[str, float]:
    return per_instance(stack, app_id, "junction_event_deliveries_total", topic=topic, outcome=outcome)


@pytest.mark.parametrize("app_id", REPLICATED)
def test_calls_to_an_app_id_spread_over_its_instances(
    replicas: Stack, client: httpx.Client, admin: dict[str, str], customer: Account, app_id: str
) -> None:
    product = new_product(client, admin, stock=5)
    placed = place(client, customer, product, 1)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["data"]["id"]
    reads = {  # a gateway route that reaches the app, and the route the app counts it under
        "catalog": (f"/products/{product['id']}", {}, "/products/{product_id}"),
        "orders": (f"/orders/{order_id}", {}, "/orders/{order_id}"),
        "payments": ("/payments", {"orderId": order_id}, "/payments"),
    }
    path, params, route = reads[app_id]
    before = requests_to(replicas, app_id, "GET", route)
    calls = 40
    for _ in range(calls):
        answer = client.get(path, params=params, headers={**customer.auth, **NO_CACHE})
        assert answer.status_code == 200, answer.text
    served = since(before, requests_to(replicas, app_id, "GET", route))
    assert sum(served.values()) == calls, served  # no call was retried, none reached another app
    assert all(count > 0 for count in served.values()), f"one instance served every call: {served}"


def test_each_event_is_applied_by_one_instance_of_its_subscriber(replicas: Stack) -> None:
    """Events published straight into the broker (no outbox relay that could send one twice): payments'
    instances share them out, and the sum of what each applied is what was published."""
    before = deliveries_to(replicas, "payments", "order.cancelled", "applied")
    published = 40
    for _ in range(published):
        # A cancelled order payments never charged: it records a void, and would again on a second delivery.
        event_id = uuid.uuid4().hex
        payload = {"orderId": uuid.uuid4().hex, "userId": uuid.uuid4().hex, "total": 4.5, "reason": "REPLICA_TEST"}
        occurred = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        envelope = {"eventId": event_id, "schemaVersion": 1, "occurredAt": occurred, "payload": payload}
        replicas.publish("order.cancelled", event_id, envelope)

    def applied() -> dict[str, float]:
        return since(before, deliveries_to(replicas, "payments", "order.cancelled", "applied"))

    wait_until(applied, lambda got: sum(got.values()) >= published, timeout=60, what=f"{published} events applied")
    time.sleep(5)  # a second delivery of any of them would be counted by now
    got = applied()
    assert sum(got.values()) == published, got
    assert all(count > 0 for count in got.values()), f"one instance took every event: {got}"


def test_payment_outcomes_move_each_order_once_across_the_instances(
    replicas: Stack, client: httpx.Client, admin: dict[str, str], customer: Account
) -> None:
    """The real flow: orders' and payments' instances each take a share of the other's events, and each
    payment outcome moves its order once (orders records each event id it applied)."""
    outcomes = ("payment.succeeded", "payment.failed")
    orders_before = {topic: deliveries_to(replicas, "orders", topic, "applied") for topic in outcomes}
    charges_before = deliveries_to(replicas, "payments", "order.created", "applied")
    product = new_product(client, admin, stock=100)
    tokens = ["tok_ok", "tok_decline"] * 8
    with ThreadPoolExecutor(max_workers=4) as pool:
        placed = list(pool.map(lambda token: place(client, customer, product, 1, token), tokens))
    assert [answer.status_code for answer in placed] == [201] * len(tokens), [a.text for a in placed]
    for answer, token in zip(placed, tokens, strict=True):
        order_in(client, customer, answer.json()["data"]["id"], "CONFIRMED" if token == "tok_ok" else "CANCELLED")

    def applied_outcomes() -> dict[str, float]:
        totals: Counter[str] = Counter()
        for topic in outcomes:
            totals.update(since(orders_before[topic], deliveries_to(replicas, "orders", topic, "applied")))
        return dict(totals)

    # Counted once the handler returned (after the order moved and its reservation was settled).
    moved = wait_until(applied_outcomes, lambda got: sum(got.values()) >= len(tokens), timeout=15, what="outcomes")
    assert sum(moved.values()) == len(tokens), moved  # a second delivery of an outcome is a duplicate, not applied
    assert all(count > 0 for count in moved.values()), f"one orders instance took every outcome: {moved}"
    charged = since(charges_before, deliveries_to(replicas, "payments", "order.created", "applied"))
    assert all(count > 0 for count in charged.values()), f"one payments instance took every order: {charged}"
    for answer in placed:
        order_id = answer.json()["data"]["id"]
        charges = client.get("/payments", params={"orderId": order_id}, headers=customer.auth).json()["data"]["items"]
        assert len(charges) == 1, charges  # one charge per order, whichever instance charged it


def test_two_catalogs_racing_for_the_last_units_sell_each_once(
    replicas: Stack, client: httpx.Client, admin: dict[str, str], customer: Account
) -> None:
    stock, wanted = 12, 40
    product = new_product(client, admin, stock=stock)
    before = requests_to(replicas, "catalog", "POST", "/reservations")
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: place(client, customer, product, 1), range(wanted)))
    codes = Counter(
        "placed" if a.status_code == 201 else f"{a.status_code} {a.json().get('error', {}).get('code')}"
        for a in answers
    )
    assert codes == {"placed": stock, "409 OUT_OF_STOCK": wanted - stock}, codes
    reserving = since(before, requests_to(replicas, "catalog", "POST", "/reservations"))
    assert all(count > 0 for count in reserving.values()), f"one catalog took every reservation: {reserving}"

    accepted = [a.json()["data"]["id"] for a in answers if a.status_code == 201]
    for order_id in accepted:
        order_in(client, customer, order_id, "CONFIRMED", timeout=60)
    stock_becomes(client, product, 0)  # initial - units of CONFIRMED orders, each sold once
    held = wait_until(  # each confirmed order's reservation is committed right after it is confirmed
        lambda: stores.product_documents(replicas)[product["id"]],
        lambda document: document["reserved"] == 0,
        timeout=20,
        what="every reservation committed",
    )
    assert held["stock"] == 0, held
    reservations = stores.reservations(replicas)
    assert Counter(reservations[order_id]["status"] for order_id in accepted) == {"COMMITTED": stock}


def test_killing_one_instance_of_each_in_the_middle_of_a_load_loses_nothing(replicas: Stack) -> None:
    """SIGKILL the second instance of orders, payments and catalog (app and sidecar) under a load of orders;
    the first instances carry on alone, and the books balance. Last in the file: those instances stay dead."""
    outcome, served = asyncio.run(kill_under_load(replicas, KILL_PLAN))
    # Each killed instance had work of its own when it died (else the kill would show nothing).
    assert all(count > 0 for count in served.values()), served
    after_kill = [i for i in outcome.load.intents if i.accepted_at and i.accepted_at > outcome.windows[0].recovered]
    assert after_kill, "no order was accepted once the killed instances were out of name resolution"
    if outcome.findings:
        pytest.fail("the books do not balance:\n" + render(outcome, "pytest tests/e2e/test_replicas.py"), pytrace=False)


async def kill_under_load(stack: Stack, plan: Plan) -> tuple[Outcome, dict[str, float]]:
    """The chaos suite's load and books around one fault: the second instances' SIGKILL."""
    begun = time.monotonic()
    budgets = {"default": budget_of("orders"), "POST /orders": budget_of("orders")}
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
    base = f"{stack.apps['gateway'].app_url}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=budgets["default"] + 5, limits=limits) as gateway:
        load = await prepare(Recorder(gateway), plan, budgets["POST /orders"], budget_of("admin"))
        workers = [asyncio.create_task(load.order_worker(n)) for n in range(plan.order_workers)]
        try:
            await asyncio.sleep(plan.warmup)
            served, window = await asyncio.to_thread(kill_second_instances, stack)
            await asyncio.sleep(plan.after)
        finally:
            load.signals.stop.set()
            await asyncio.wait_for(asyncio.gather(*workers), timeout=4 * budgets["POST /orders"])
        books = await reconcile(load, stack, settle_within=plan.payment_window + plan.settle_margin, tenants=False)
    errors = classify(load.recorder.calls, [window], budgets, breaker_seconds=breaker_open_seconds())
    seconds = time.monotonic() - begun
    return Outcome(plan, stack.run_dir, budgets, load, [window], errors, books, seconds, stack.profile), served


def kill_second_instances(stack: Stack) -> tuple[dict[str, float], Window]:
    """What each second instance had done so far, then SIGKILL them all at once (app and sidecar)."""
    second = {app_id: stack.instances(app_id)[1] for app_id in REPLICATED}
    served = {
        "orders.2 POST /orders": counted(
            second["orders"], "junction_http_requests_total", method="POST", route="/orders"
        ),
        "catalog.2 POST /reservations": counted(
            second["catalog"], "junction_http_requests_total", method="POST", route="/reservations"
        ),
        "payments.2 order.created": counted(
            second["payments"], "junction_event_deliveries_total", topic="order.created", outcome="applied"
        ),
    }
    killed = time.monotonic()
    for app in second.values():
        stack.kill_both(app.name)
    return served, Window("SIGKILL orders.2, payments.2, catalog.2", killed, time.monotonic() + NAME_RESOLUTION_SECONDS)
