"""Faults under load, then the books: the bounded chaos run inside `make test` (`make chaos` runs the long one)."""

from __future__ import annotations

import pytest

from tools.chaos import SHORT, run
from tools.chaos.report import render
from tools.stack.stack import new_run_dir

pytestmark = pytest.mark.timeout(480)  # part of `make test`: bounded, well under the suite-wide 600 s


def test_books_balance_after_sigkills_under_load() -> None:
    """SIGKILL payments, orders' sidecar, catalog, redis, admin and provisioner while orders and tenants flow."""
    outcome = run(SHORT, new_run_dir("test-runs", "chaos"))
    if outcome.findings:
        pytest.fail("the books do not balance:\n" + render(outcome, "pytest tests/e2e/test_chaos.py"), pytrace=False)
