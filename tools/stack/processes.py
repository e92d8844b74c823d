"""Child processes in their own process groups, with logs in files, stopped as a whole group."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

# Below Linux's ephemeral range (32768+): a port the kernel hands to some outgoing connection
# between our pick and the server's bind would make a sidecar fail to start.
_PORT_RANGE = range(20000, 32000)
_handed_out: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(count: int = 1) -> int:
    """A loopback port nobody listens on (with the `count - 1` after it), outside the ephemeral range,
    never handed out twice."""
    for _ in range(200):
        port = random.choice(_PORT_RANGE)  # noqa: S311 - spreading picks, not a secret
        ports = range(port, port + count)
        if _handed_out.intersection(ports) or not all(_bindable(p) for p in ports):
            continue
        _handed_out.update(ports)
        return port
    raise RuntimeError("no free loopback port found")


class Managed:
    """One child process: started in a new session so its whole group can be stopped."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.cwd = cwd
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n=== start {time.strftime('%H:%M:%S')} {' '.join(self.command)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, grace_seconds: float = 10.0) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace_seconds)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the whole process group at once (a crash, no shutdown) and reap it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def tail_section(self, lines: int = 30) -> str:
        """The last lines of the log under a header naming the process and its log file."""
        return f"--- {self.name} ({self.log}) ---\n{self.tail(lines)}"

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll until the condition holds; fail with `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
