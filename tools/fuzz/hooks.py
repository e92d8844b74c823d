"""schemathesis hooks (SCHEMATHESIS_HOOKS=<this file>): the pass's bearer token where the OpenAPI asks for one.

Operations without a security requirement (sign-up, sign-in, the catalogue, health) are fuzzed anonymously,
as a visitor would call them; `ignored_auth` still checks that the others refuse a missing or forged token.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

TOKEN_ENV = "JUNCTION_FUZZ_TOKEN"  # noqa: S105 - the name of a variable, not a secret


@schemathesis.auth(refresh_interval=None)
class PassToken:
    """The token of this pass's account (a customer's or the admin's), set by the campaign runner."""

    def get(self, case: Any, ctx: Any) -> str:
        return os.environ[TOKEN_ENV]

    def set(self, case: Any, data: str, ctx: Any) -> None:
        if ctx.operation.definition.raw.get("security"):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
