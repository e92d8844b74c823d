"""Run Python code inside a named network namespace, on a thread of its own.

A network namespace belongs to a thread, not to a process: setns(2) on a fresh thread moves that thread
alone, and whatever it starts (subprocess.Popen forks from the calling thread) or connects to is then in
the namespace, as under `ip netns exec`. The test process itself never leaves its own namespace. Python
3.11 has no os.setns, hence the one libc call.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
NETNS_DIR = Path("/run/netns")
"""Where `ip netns add` mounts each named namespace."""
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def namespace_file(name: str) -> Path:
    return NETNS_DIR / name


def _enter(name: str) -> None:
    descriptor = os.open(namespace_file(name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(descriptor, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into network namespace {name}: {os.strerror(error)}")
    finally:
        os.close(descriptor)


def run_in(name: str, call: Callable[[], T]) -> T:
    """Run `call` in network namespace `name` and return what it returns (or raise what it raised)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            _enter(name)
            outcome.append(call())
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    thread = threading.Thread(target=body, name=f"netns:{name}", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def same_namespace(pid: int, name: str) -> bool:
    """Whether process `pid` runs in network namespace `name` (the two files name one namespace)."""
    theirs, ours = os.stat(f"/proc/{pid}/ns/net"), os.stat(namespace_file(name))
    return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)
