"""One real stack per test session; log tails are attached to every failing test's report."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.stack import AppProcess, Stack
from tools.stack.stack import ROOT

PROBE_TOPICS = "user.registered"
_stack: Stack | None = None


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    global _stack
    run_dir = ROOT / ".data" / "test-runs" / time.strftime("%Y%m%d-%H%M%S")
    probe = AppProcess(
        "probe", [sys.executable, str(Path(__file__).with_name("probe_app.py"))], {"PROBE_TOPICS": PROBE_TOPICS}
    )
    # Every anonymous test call comes from 127.0.0.1: loosen that one tier, keep the others as shipped.
    _stack = Stack(run_dir, extra_apps=[probe], rate_limit_overrides={"auth": ["1000/second"]})
    try:
        _stack.start()
        yield _stack
    finally:
        _stack.stop()
        _stack = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and _stack is not None:
        report.sections.append(("stack logs (tails)", _stack.log_tails()))


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
