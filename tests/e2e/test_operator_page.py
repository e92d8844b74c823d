"""The operator page (/ui) in headless Chromium against the real stack, as an admin uses it: sign in, see an
order placed through the API appear with its events and open its trace in the page, replay dead letters (one
with a corrected payload) and see them leave the list, retry a failed tenant, and keep working while one
section's API fails.

Debian's chromium (tools/ui/install) is driven by playwright's Python client; playwright's own browser download
is never used. The page only talks to the gateway's JSON API, which the other end-to-end tests hold to every
profile, so it runs on the `local` profile alone: once per `make test`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_dead_letters import ledger, letters_of, recent
from tests.e2e.test_identity_flow import assert_error
from tests.e2e.test_order_flow import Json
from tests.e2e.test_tenants import new_tenant
from tools.stack import Stack
from tools.stack.stack import ROOT

pytestmark = pytest.mark.skipif(
    os.environ.get("JUNCTION_PROFILE", "local") != "local",
    reason="the page only calls the gateway's API, which every profile's own tests cover: one browser run (local)",
)
CHROMIUM = "/usr/bin/chromium"
# What works on these machines: no sandbox as root, and no background traffic to hosts the network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = os.environ.get("JUNCTION_SCREENSHOT")
"""Where the test saves a picture of the page once the order is there (JUNCTION_SCREENSHOT=docs/operator-page.png)."""
ADMIN = ("admin@junction.local", "junction-admin")
WAIT_MS = 30_000


class Watched:
    """A page and what it did: its requests, and the errors its console and scripts reported."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[Request] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request))  # playwright tags a handler: no builtin
        page.on("pageerror", lambda error: self.errors.append(f"script: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # A failed call shows in the console as a failed resource; anything else (a CSP violation) is a fault.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def sign_in(self, url: str, email: str, password: str) -> None:
        self.page.goto(url)
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh user-data dir
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1360, "height": 1000},
        )
        context.set_default_timeout(WAIT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def page_url(stack: Stack) -> str:
    return f"{stack.apps['gateway'].app_url}/ui"


@pytest.fixture(scope="module")
def admin_page(browser: BrowserContext, page_url: str) -> Iterator[Watched]:
    """One tab signed in as the admin, shared by the tests below (each leaves it as it found it)."""
    watched = Watched(browser.new_page())
    watched.sign_in(page_url, *ADMIN)
    watched.page.wait_for_selector("#feed[data-state=live]")
    yield watched
    watched.page.close()


@pytest.fixture
def page(admin_page: Watched, stack: Stack) -> Iterator[Page]:
    """The admin's tab; after each test, no script error or policy violation, and the token never in a URL."""
    yield admin_page.page
    assert admin_page.errors == []
    gateway = stack.apps["gateway"].app_url
    token = admin_page.page.evaluate("sessionStorage.getItem('junction.operator.token')")
    assert token, "the admin was signed out"
    for request in admin_page.requests:
        assert request.url.startswith(gateway + "/"), f"the page fetched {request.url}: nothing but the gateway"
        assert token not in request.url


def test_the_page_is_served_under_its_policy_and_refuses_a_customer(
    browser: BrowserContext, page_url: str, account: Account
) -> None:
    watched = Watched(browser.new_page())
    try:
        answer = watched.page.goto(page_url)
        assert answer is not None and answer.status == 200
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        watched.sign_in(page_url, account.email, account.password)
        problem = watched.page.wait_for_selector("#login .problem")
        assert problem is not None and "admin role" in problem.inner_text()
        assert "ADMIN_ONLY" in problem.inner_text()
        assert watched.page.evaluate("sessionStorage.length") == 0  # the customer's token is not kept
        assert watched.errors == []
    finally:
        watched.page.close()


def test_an_admin_sees_every_service_and_its_sidecar(page: Page, stack: Stack) -> None:
    for app_id in ("identity", "catalog", "orders", "payments", "notifications", "analytics", "admin"):
        row = page.wait_for_selector(f"#services tr[data-service={app_id}][data-state=up]")
        assert row is not None and "closed" in row.inner_text()  # the breaker
    sidecar = page.wait_for_selector("#services tr[data-service=provisioner]")
    assert sidecar is not None and "components" in sidecar.inner_text()
    assert page.get_attribute("nav a[href='/docs']", "href") == "/docs"
    assert page.get_attribute("nav a:text('Jaeger')", "href") == stack.trace_query_url


def test_an_order_appears_with_its_events_and_its_trace(
    page: Page,
    stack: Stack,
    gateway: httpx.Client,
    account: Account,
    make_product: Callable[..., dict[str, Any]],
) -> None:
    product = make_product(stock=5)
    request_id = uuid.uuid4().hex
    placed = gateway.post(
        "/orders",
        json={"items": [{"productId": product["id"], "quantity": 2}], "paymentMethod": {"token": "tok_ok"}},
        headers={**account.auth, "X-Request-ID": request_id},
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["data"]["id"]

    page.wait_for_selector(f"#feed li[data-type='order.created'][data-order-id='{order_id}']")
    page.wait_for_selector(f"#feed li[data-type='order.confirmed'][data-order-id='{order_id}']")
    confirmed = f"#orders tr[data-order-id='{order_id}'][data-status=CONFIRMED]"
    page.wait_for_selector(confirmed)
    assert "25.00" in page.inner_text(confirmed)  # read again by selector: the section re-renders as it refreshes
    assert page.inner_text("#orders .count[data-status=CONFIRMED] .number").isdigit()  # orders by status

    # The order's trace opens in the page, read through the gateway from Jaeger's query API (the page itself only
    # ever calls the gateway: the `page` fixture checks), with the spans of the services the order went through.
    order_row = f"#orders tr[data-order-id='{order_id}']"
    page.click(f"{order_row} button[data-action=trace]")

    def services_shown() -> set[str]:
        return set(page.eval_on_selector_all("#trace .waterfall li", "rows => rows.map((row) => row.dataset.service)"))

    found = wait_until(services_shown, lambda names: len(names) >= 5, timeout=20, what="the order's trace in the page")
    assert {"gateway", "orders", "identity", "catalog", "payments"} <= found
    assert f"Trace of request {request_id[:8]}" in page.inner_text("#trace h2")
    # Beside it, the same search in Jaeger's own UI, by the request id that placed the order.
    ui_href = page.get_attribute(f"{order_row} .trace a.external", "href") or ""
    assert ui_href.startswith(f"{stack.trace_query_url}/search?")
    assert json.loads(parse_qs(urlsplit(ui_href).query)["tags"][0]) == {"junction.request_id": request_id}
    assert parse_qs(urlsplit(ui_href).query)["service"] == ["gateway"]
    if SCREENSHOT:
        target = Path(SCREENSHOT) if Path(SCREENSHOT).is_absolute() else ROOT / SCREENSHOT
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)

    # The header's box finds the same trace by its id; Close puts the panel away.
    trace_id = page.inner_text("#trace p.muted code")
    page.click("#trace button[data-action=close]")
    page.wait_for_selector("#trace", state="detached")
    page.fill("#find-trace input", trace_id)
    page.press("#find-trace input", "Enter")
    page.wait_for_selector("#trace[data-state=ok] li[data-service=payments]")
    assert f"Trace {trace_id[:8]}" in page.inner_text("#trace h2")
    page.click("#trace button[data-action=close]")


def test_dead_letters_replayed_from_the_page_leave_the_list(
    page: Page, stack: Stack, gateway: httpx.Client, admin_auth: dict[str, str]
) -> None:
    order_id, event_id = uuid.uuid4().hex, uuid.uuid4().hex
    good = {"orderId": order_id, "userId": uuid.uuid4().hex, "total": 12.5, "items": [], "paymentToken": "tok_ok"}
    poison = {**good, "total": "twelve"}  # payments refuses it (DROP): straight to its dead-letter topic
    stack.publish(
        "order.created", event_id, {"eventId": event_id, "schemaVersion": 1, "occurredAt": recent(), "payload": poison}
    )
    (letter,) = wait_until(lambda: letters_of(gateway, admin_auth, event_id), bool, timeout=30, what="the letter")
    row = f"#dead-letters tr[data-letter-id='{letter['id']}']"
    page.click(f"{row} button[data-action=inspect]")
    payload = page.locator(f"#dead-letters tr[data-detail-of='{letter['id']}'] textarea")
    assert json.loads(payload.input_value()) == poison  # what the subscriber refused, ready to correct
    payload.fill("{ not json")
    page.click("#dead-letters button[data-action=replay-corrected]")
    assert "not JSON" in page.inner_text("#dead-letters .problem")
    payload.fill(json.dumps(good, indent=2))
    page.click("#dead-letters button[data-action=replay-corrected]")

    page.wait_for_selector(row, state="detached")
    assert "with the corrected payload" in page.inner_text("#dead-letters .outcome")
    (entry,) = wait_until(lambda: ledger(stack, order_id), bool, timeout=30, what="the corrected charge")
    assert (entry["status"], entry["captures"], entry["amount"]) == ("CAPTURED", 1, 12.5)
    replayed = gateway.get("/admin/dead-letters", params={"limit": 100}, headers=admin_auth).json()["data"]["items"]
    assert next(item for item in replayed if item["id"] == letter["id"])["status"] == "REPLAYED"

    # Replayed as it was, another subscriber's letter fails again: it leaves, and its failure comes back as a new one.
    other = wait_until(
        lambda: [
            item
            for item in gateway.get("/admin/dead-letters", params={"limit": 100}, headers=admin_auth).json()["data"][
                "items"
            ]
            if item["eventId"] == event_id and item["subscriber"] not in ("payments", None)
        ],
        bool,
        timeout=30,
        what="another subscriber's letter",
    )[0]
    again = f"#dead-letters tr[data-letter-id='{other['id']}']"
    page.click(f"{again} button[data-action=replay]")
    page.wait_for_selector(again, state="detached")
    returned = f"#dead-letters tr[data-event-id='{event_id}'][data-subscriber={other['subscriber']}]"
    page.wait_for_selector(returned)
    assert other["id"][:8] in page.inner_text(returned)  # "from": the letter it replays


def tenants_call(url: str) -> bool:
    """The page's call for the tenants section."""
    return urlsplit(url).path == "/api/v1/tenants"


def test_a_section_whose_api_fails_says_why_and_the_others_carry_on(page: Page, stack: Stack) -> None:
    envelope = {
        "success": False,
        "error": {"code": "SERVICE_UNAVAILABLE", "message": "A service this request needs is unavailable."},
        "statusCode": 503,
        "requestId": uuid.uuid4().hex,
        "traceId": None,
        "timestamp": recent(),
    }

    def unavailable(route: Route) -> None:
        route.fulfill(status=503, content_type="application/json", body=json.dumps(envelope))

    page.route(tenants_call, unavailable)  # as the gateway answers while admin is down
    try:
        page.click("#tenants header button")
        page.wait_for_selector("#tenants[data-state=error]")
        assert "A service this request needs is unavailable." in page.inner_text("#tenants .problem")
        assert "SERVICE_UNAVAILABLE" in page.inner_text("#tenants .problem")
        # A dead analytics blanks only its part of the dashboard; the orders beside it stay listed.
        stack.stop_app("analytics")
        try:
            page.wait_for_selector("#orders .by-status .problem")
            assert page.query_selector("#orders table") is not None  # the latest orders, still listed
            for section in ("services", "dead-letters"):
                page.click(f"#{section} header button")
                page.wait_for_selector(f"#{section}[data-state=ok]")
        finally:
            stack.start_app("analytics")
        page.wait_for_selector("#orders .count[data-status=CONFIRMED]")
    finally:
        page.unroute(tenants_call, unavailable)
    page.click("#tenants header button")
    page.wait_for_selector("#tenants[data-state=ok]")


def test_a_failed_tenant_is_retried_from_the_page(
    page: Page, stack: Stack, gateway: httpx.Client, admin_auth: dict[str, str]
) -> None:
    stack.stop_app("provisioner")
    try:
        refused = gateway.post("/tenants", json=new_tenant(), headers=admin_auth)
        tenant_id = assert_error(refused, 424, "PROVISIONING_FAILED")["error"]["details"]["tenantId"]  # type: ignore[index]
    finally:
        stack.start_app("provisioner")
    row = f"#tenants tr[data-tenant-id='{tenant_id}']"
    page.click("#tenants header button")
    page.wait_for_selector(f"{row}[data-status=FAILED]")

    def retried() -> Json | None:
        # The breaker towards provisioner may stay open a few seconds after the failures: the page says so.
        if page.query_selector(f"{row}[data-status=ACTIVE]") is None:
            # A locator, not an element handle: the section re-renders on its refresh interval, and a locator
            # finds the button again where a handle would point at the row that was replaced.
            button = page.locator(f"{row} button[data-action=retry]:not([disabled])")
            with contextlib.suppress(PlaywrightError):  # no enabled button yet: a retry is under way
                button.click(timeout=2_000)
            return None
        return {"status": "ACTIVE"}

    wait_until(retried, bool, timeout=60, what="the tenant retried from the page")
    assert "attempt" in page.inner_text("#tenants .outcome")  # what the last retry answered
