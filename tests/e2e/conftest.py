"""One real stack per test session; log tails are attached to every failing test's report."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from pluggy import Result

from tools.stack import AppProcess, Stack
from tools.stack.stack import ROOT, new_run_dir

PROBE_TOPICS = "user.registered,order.created,product.stock_changed"
# One test client plays every user from 127.0.0.1 and fires parallel orders, so the shipped tiers would
# throttle the suite itself; the run keeps one strict tier to show the edge enforcing what YAML says.
# Logins keep the shipped count of wrong passwords: a guesser is throttled, the suite's few stay under it.
_SHIPPED_TIERS = yaml.safe_load((ROOT / "apps" / "gateway" / "ratelimits.yaml").read_text())["tiers"]
LOGIN_TIER: dict[str, object] = {**next(t for t in _SHIPPED_TIERS if t["name"] == "login"), "limits": ["1000/second"]}
RATE_LIMIT_TIERS: list[dict[str, object]] = [
    LOGIN_TIER,
    {"name": "strict", "paths": ["/api/v1/users/me"], "limits": ["10/second", "100 per 10 seconds"]},
    {"name": "default", "paths": ["/"], "limits": ["1000/second"]},
]
NO_CACHE = {"Cache-Control": "no-cache"}
"""Headers for a product read that catalog itself answers, not the gateway's cache (which follows a change
once its event arrives): for tests that read stock right after they moved it, or that need catalog's 503."""
PAYMENT_TIMEOUT_SECONDS = 12  # long enough to restart payments, short enough to watch an order expire
USER_CACHE_FRESH_SECONDS = 3
"""How long orders and the gateway trust identity's answer about a user without asking again (shipped: 300 s):
short, so a test sees a kept answer go stale within seconds (tests/e2e/test_cached_users.py)."""
_stack: Stack | None = None
OWN_STACKS: list[Stack] = []
"""A stack a test file boots for itself, while it runs (test_replicas.py): watched as the shared one is."""
T = TypeVar("T")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    global _stack
    run_dir = new_run_dir("test-runs")
    probe = AppProcess(
        "probe",
        [sys.executable, str(Path(__file__).with_name("probe_app.py"))],
        {"PROBE_TOPICS": PROBE_TOPICS},
        topics=tuple(PROBE_TOPICS.split(",")),
    )
    # Every anonymous test call comes from 127.0.0.1: loosen that one tier, keep the others as shipped.
    _stack = Stack(
        run_dir,
        extra_apps=[probe],
        rate_limit_tiers=RATE_LIMIT_TIERS,
        app_env={
            "orders": {
                "PAYMENT_TIMEOUT_SECONDS": str(PAYMENT_TIMEOUT_SECONDS),
                "USER_CACHE_FRESH_SECONDS": str(USER_CACHE_FRESH_SECONDS),
            },
            "gateway": {"USER_CACHE_FRESH_SECONDS": str(USER_CACHE_FRESH_SECONDS)},
        },
    )
    try:
        _stack.start()
        yield _stack
    finally:
        _stack.stop()
        _stack = None


OWN_STACK_FILES = ("test_chaos.py", "test_replicas.py", "test_multi_host.py")
"""Test files that boot a stack of their own (stopped when the file is done), run before the shared one."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the chaos, replica and multi-host tests before any test starts the shared stack.

    Each boots a stack of its own; two stacks on 2 cores would measure the machine, not the faults.
    """
    items.sort(key=lambda item: item.path.name not in OWN_STACK_FILES)  # stable: the rest keep their order


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    for running in _running_stacks():
        if report.failed:
            report.sections.append(("stack logs (tails)", running.log_tails()))


def _running_stacks() -> list[Stack]:
    return [*OWN_STACKS, *([_stack] if _stack is not None else [])]


@pytest.fixture(autouse=True)
def no_crashed_process() -> None:
    """Fail fast, with its log, when a process of the shared stack (or a file's own) has died since the last test.

    Tests that crash a process on purpose do it through the harness (kill_*, stop_app), which forgets it;
    anything else that exited is a crash the test would otherwise meet as a timeout somewhere downstream.
    """
    crashed = [managed for running in _running_stacks() for managed in running.crashed()]
    if crashed:
        tails = "\n".join(m.tail_section() for m in crashed)
        pytest.fail(f"stack processes died: {', '.join(m.name for m in crashed)}\n{tails}", pytrace=False)


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{stack.apps['gateway'].app_url}/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


class Account:
    def __init__(self, email: str, password: str, token: str, user_id: str) -> None:
        self.email = email
        self.password = password
        self.token = token
        self.user_id = user_id

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def account(gateway: httpx.Client, unique_email: str) -> Account:
    """A freshly registered and signed-in customer."""
    password = "correct horse battery"
    registered = gateway.post("/auth/register", json={"email": unique_email, "password": password, "name": "Ada"})
    assert registered.status_code == 201, registered.text
    login = gateway.post("/auth/login", json={"email": unique_email, "password": password})
    assert login.status_code == 200, login.text
    return Account(unique_email, password, login.json()["data"]["accessToken"], registered.json()["data"]["id"])


def event_counts(gateway: httpx.Client, admin_auth: dict[str, str]) -> dict[str, int]:
    """How many events of each topic analytics has counted (each event once, by its id)."""
    counts: dict[str, int] = gateway.get("/reports/summary", headers=admin_auth).json()["data"]["eventCounts"]
    return counts


def wait_until(fetch: Callable[[], T], accept: Callable[[T], bool], *, timeout: float, what: str) -> T:
    """Poll `fetch` until `accept` holds for its result; return that result.

    A fetch that fails (a 503 envelope without `data` while a breaker is still open, say) counts as
    "not yet"; the last failure is reported if the deadline passes.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value: T | None = fetch()
            last: object = value
        except (KeyError, TypeError, httpx.HTTPError) as exc:
            value, last = None, exc
        if value is not None and accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(0.3)


def sign_in_as_admin(gateway: httpx.Client) -> dict[str, str]:
    """The development admin's bearer header, signed in through `gateway` (whichever stack it fronts)."""
    login = gateway.post("/auth/login", json={"email": "admin@junction.local", "password": "junction-admin"})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}


@pytest.fixture(scope="session")
def admin_auth(gateway: httpx.Client) -> dict[str, str]:
    return sign_in_as_admin(gateway)


@pytest.fixture
def make_product(gateway: httpx.Client, admin_auth: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def create(stock: int = 10, price: float = 12.5) -> dict[str, Any]:
        sku = f"SKU-{uuid.uuid4().hex[:10]}"
        body = {"sku": sku, "name": f"Widget {sku}", "price": price, "stock": stock}
        response = gateway.post("/products", json=body, headers=admin_auth)
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()["data"]
        return product

    return create


@pytest.fixture
def other_account(gateway: httpx.Client) -> Account:
    email, password = f"other-{uuid.uuid4().hex[:12]}@example.com", "another password"
    registered = gateway.post("/auth/register", json={"email": email, "password": password, "name": "Other"})
    login = gateway.post("/auth/login", json={"email": email, "password": password})
    return Account(email, password, login.json()["data"]["accessToken"], registered.json()["data"]["id"])
