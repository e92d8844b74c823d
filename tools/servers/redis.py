"""redis-server from Debian's packages, and the stream janitor that runs beside it (tools/janitor.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tools.servers.processes import LOOPBACK, ROOT, apt_install, wait_started

JANITOR_INTERVAL_SECONDS = 300.0
"""How often the stream janitor sweeps the profile's redis (it keeps every entry younger than an hour)."""


def redis_answers(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(port: int, data_dir: Path, log_file: Path, host: str = LOOPBACK) -> subprocess.Popen[bytes]:
    """Start a redis-server on host:port (127.0.0.1 unless told) in its own process group; wait for its PING."""
    binary = apt_install("redis-server", "redis-server")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                binary,
                "--bind",
                host,
                "--port",
                str(port),
                "--dir",
                str(data_dir),
                "--save",
                "",
                "--appendonly",
                "yes",
                # fsync every write before answering: a SIGKILL or power loss then loses no
                # acknowledged event (everysec loses up to a second of them); see docs/benchmarks.md.
                "--appendfsync",
                "always",
                # Protected mode answers only loopback clients while there is no password: right on
                # 127.0.0.1, and a refusal of every client on another host's address (the multi-host
                # simulation's servers namespace; docker-compose.yml turns it off on its network too).
                "--protected-mode",
                "yes" if host == LOOPBACK else "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    failure = f"redis-server did not start on {host}:{port}"
    wait_started(process, lambda: redis_answers(port, host), failure=failure, log_file=log_file, timeout_seconds=15)
    return process


def janitor_command(
    port: int, *, interval_seconds: float = JANITOR_INTERVAL_SECONDS, host: str = LOOPBACK
) -> list[str]:
    """The stream janitor (tools/janitor.py) for the redis on `host:port`: it trims only acknowledged entries."""
    command = [sys.executable, "-m", "tools.janitor", "--host", host, "--port", str(port)]
    return [*command, "--interval", str(interval_seconds)]


def start_janitor(port: int, log_file: Path) -> subprocess.Popen[bytes]:
    """Start the stream janitor in its own process group; nothing waits for it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        return subprocess.Popen(
            janitor_command(port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
