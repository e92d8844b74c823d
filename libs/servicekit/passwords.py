"""Password hashing with Argon2id; hashing is CPU-bound, so it runs off the event loop."""

from __future__ import annotations

import asyncio
import ctypes
import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

M_MMAP_THRESHOLD = -3
"""glibc's mallopt parameter: the size from which malloc maps a block of its own (freed: unmapped at once)."""
HASH_BUFFER_MMAP_THRESHOLD = 1 << 20


def _hash_buffers_leave_with_their_hash() -> None:
    """Keep each hash's 19 MiB buffer out of the heaps, so its memory goes back to the system when the hash ends.

    glibc maps blocks that large on their own, but the first such block freed raises its threshold to that size
    (the threshold is dynamic), and from then on the buffers come from the hashing threads' heaps and stay
    resident: identity held 216 MiB after `make bench`, 115 MiB before its first hash. A threshold set once stays
    fixed; each hash then maps and zeroes a fresh buffer, a cost well under the hash's own. On a C library
    without mallopt (musl has a stub) there is nothing to tune.
    """
    try:
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    except (OSError, TypeError):  # no C library to open by the program's own name (Windows)
        return
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, HASH_BUFFER_MMAP_THRESHOLD)


_hash_buffers_leave_with_their_hash()  # before the first hash below
# OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): strong enough for stored passwords and
# cheap enough that a 2-core machine still signs people in at a useful rate. Verification reads the
# parameters from the stored hash, so raising them later keeps old hashes valid.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("junction-timing-equaliser")
# One hash per core at a time: more would only share the cores and hold more 19 MiB buffers.
_slots = threading.BoundedSemaphore(os.cpu_count() or 2)


def _hash(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def _verify(password: str, password_hash: str | None) -> bool:
    with _slots:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash, password)


async def password_matches(password: str, password_hash: str | None) -> bool:
    return await asyncio.to_thread(_verify, password, password_hash)
