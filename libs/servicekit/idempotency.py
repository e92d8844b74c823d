"""Idempotency-Key: how a write is made safe to repeat, at the edge and inside the mesh.

The gateway gives every write a key (the client's, or a new one per request) and forwards it; a
sidecar retrying that request repeats the key, and the callee answers what the first attempt did.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header

from servicekit.errors import BadRequest
from servicekit.keys import valid_idempotency_key

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_DOCUMENTED = Header(
    alias=IDEMPOTENCY_KEY_HEADER,
    description="Repeat a write safely: the same key answers what the first request did.",
    json_schema_extra={"minLength": 1, "maxLength": 128, "pattern": "^[\\x20-\\x7e]+$"},
)
"""What the OpenAPI says of the key; the check below still answers a bad one with its own 400."""


class InvalidIdempotencyKey(BadRequest):
    """Raised when an Idempotency-Key header is not 1 to 128 printable ASCII characters."""

    default_code = "INVALID_IDEMPOTENCY_KEY"


def check_idempotency_key(key: str) -> str:
    """Return the key when it has 1 to 128 printable ASCII characters; else a 400."""
    if not valid_idempotency_key(key):
        raise InvalidIdempotencyKey("Idempotency-Key must have 1 to 128 printable ASCII characters.")
    return key


async def _sent_key(key: Annotated[str | None, _DOCUMENTED] = None) -> str | None:
    return None if key is None else check_idempotency_key(key)


async def _key_for_this_request(key: Annotated[str | None, _DOCUMENTED] = None) -> str:
    return uuid.uuid4().hex if key is None else check_idempotency_key(key)


IdempotencyKey = Annotated[str | None, Depends(_sent_key)]
"""The key a caller sent, checked; None when it sent none (an app inside the mesh)."""

RequestIdempotencyKey = Annotated[str, Depends(_key_for_this_request)]
"""The client's key, or a new one for this request (the gateway): a sidecar's retry repeats it."""
