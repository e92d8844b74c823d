"""The bounded fuzz campaign of `make fuzz` against the shared stack: no 5xx, nothing outside the OpenAPI."""

from __future__ import annotations

from tests.e2e.conftest import Account
from tools.fuzz import BOUNDED, run
from tools.fuzz.report import render
from tools.stack import Stack


def test_generated_requests_get_only_documented_answers(
    stack: Stack, account: Account, admin_auth: dict[str, str]
) -> None:
    tokens = {"customer": account.token, "admin": admin_auth["Authorization"].removeprefix("Bearer ")}
    outcome = run(BOUNDED, stack.apps["gateway"].app_url, tokens, stack.run_dir / "fuzz")
    summary = render(outcome, "tests/e2e/test_fuzz.py")
    assert outcome.server_errors == 0, summary
    assert outcome.findings == [], summary
    assert outcome.cases >= BOUNDED.min_cases, summary
