"""Idempotency keys without the web: what a valid key is, and the id a key stands for.

Domain modules use this (it imports no FastAPI); `servicekit.idempotency` builds the edge on it.
"""

from __future__ import annotations

import hashlib
import re

_KEY = re.compile(r"^[\x20-\x7e]{1,128}$")


def valid_idempotency_key(key: str) -> bool:
    """True when the key has 1 to 128 printable ASCII characters."""
    return _KEY.fullmatch(key) is not None


def derived_id(seed: str) -> str:
    """The id a write's key stands for (32 hex characters): the same seed, the same resource."""
    return hashlib.sha256(seed.encode()).hexdigest()[:32]
