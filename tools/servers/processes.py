"""What every server kind shares: the project folder, a Debian package, probing a port, waiting for a start."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
"""Where every server listens unless told another address (the multi-host simulation's, tools/netns)."""


def port_open(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def apt_install(package: str, binary: str) -> str:
    """Install a Debian package when its binary is missing; return the binary's path."""
    found = shutil.which(binary) or (f"/usr/bin/{binary}" if Path(f"/usr/bin/{binary}").exists() else None)
    if found:
        return found
    print(f"[servers] installing {package} from Debian's packages ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], check=True, env=env)
    found = shutil.which(binary) or f"/usr/bin/{binary}"
    if not Path(found).exists():
        raise SystemExit(f"{package} installed but {binary} was not found")
    return found


def wait_started(
    process: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    failure: str,
    log_file: Path,
    timeout_seconds: float,
    poll_seconds: float = 0.1,
) -> None:
    """Return once `ready()` says so; exit with `failure` and the log's path if the process ends or time runs out.

    A server that never became ready is killed (its whole process group) before the exit: nobody holds its
    pid to stop it later.
    """
    deadline = time.monotonic() + timeout_seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            raise SystemExit(f"{failure}; see {log_file}")
        time.sleep(poll_seconds)
