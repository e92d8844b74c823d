"""Request-scoped values shared by logs, the sidecar client and the envelope."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def current_request_id() -> str | None:
    return request_id_var.get()


SERVED_REQUEST_ID = "junction.served_request_id"
"""Where a route names (in the ASGI scope's state) the request it serves when that is not the one it came in as:
an event delivery serves the request that staged the event, and its access line is written under that id."""


def is_request_id(candidate: object) -> bool:
    """Whether a value is a request id safe to log and forward."""
    return isinstance(candidate, str) and _SAFE_REQUEST_ID.fullmatch(candidate) is not None


def accept_request_id(candidate: str | None) -> str:
    """Keep a caller's request id when it is safe to log and forward, else make a new one."""
    if is_request_id(candidate):
        return str(candidate)
    return uuid.uuid4().hex
