"""sentry, the mesh's certificate authority (built with the Dapr runtime into .dapr/bin/runtime)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tools.servers.processes import LOOPBACK, ROOT, wait_started

SENTRY_PORT = 4800
"""Where sentry signs the sidecars' certificates (127.0.0.1); its health endpoint is the next port."""
SENTRY_BINARY = ROOT / ".dapr" / "bin" / "runtime" / "sentry"
SENTRY_CONFIG = ROOT / "config" / "sentry.yaml"


TRUST_DOMAIN = "localhost"
"""sentry's trust domain, as daprd expects by default; placement and scheduler share it."""


def listener(port: int, host: str = LOOPBACK) -> list[str]:
    """The flags every Dapr control-plane binary takes: gRPC on host:port (127.0.0.1 unless told), health on
    the next port."""
    return [
        "--listen-address",
        host,
        "--port",
        str(port),
        "--healthz-listen-address",
        host,
        "--healthz-port",
        str(port + 1),
    ]


def sentry_answers(health_port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, health_port), timeout=1) as conn:
            conn.sendall(f"GET /healthz HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            status_line = conn.recv(64).split(b"\r\n", 1)[0].split()
            return len(status_line) > 1 and status_line[1] == b"200"
    except OSError:
        return False


CREDENTIAL_FILES = ("ca.crt", "issuer.crt", "issuer.key")


def _launch(port: int, data_dir: Path, log_file: Path, host: str) -> subprocess.Popen[bytes]:
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [
                str(SENTRY_BINARY),
                "--config",
                str(SENTRY_CONFIG),
                "--issuer-credentials",
                str(data_dir),
                "--trust-domain",
                TRUST_DOMAIN,
                *listener(port, host),
                "--enable-metrics=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _create_credentials(port: int, data_dir: Path, log_file: Path, host: str) -> None:
    """Let a first sentry write the root and issuer certificates, then stop it.

    A sentry that created them itself notices its own files a moment later and reloads, closing its
    gRPC server for seconds (three times, 2 s apart): a sidecar asking for its certificate then
    exits. One started on existing credentials never reloads.
    """
    process = _launch(port, data_dir, log_file, host)
    deadline = time.monotonic() + 30
    try:
        while not all((data_dir / name).exists() for name in CREDENTIAL_FILES):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"sentry did not create its credentials in {data_dir}; see {log_file}")
            time.sleep(0.1)
    finally:
        _stop(process)


def start_sentry(port: int, data_dir: Path, log_file: Path, host: str = LOOPBACK) -> subprocess.Popen[bytes]:
    """Start sentry on host:port (127.0.0.1 unless told; health on port + 1) in its own process group; wait until
    healthy.

    The mesh's root and issuer certificates live in `data_dir` (created on the first start);
    sidecars trust that root through DAPR_TRUST_ANCHORS (trust_anchors()).
    """
    if not SENTRY_BINARY.exists():
        raise SystemExit(f"{SENTRY_BINARY} is missing: run `bash tools/dapr/install` (make setup does)")
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if not all((data_dir / name).exists() for name in CREDENTIAL_FILES):
        _create_credentials(port, data_dir, log_file, host)
    process = _launch(port, data_dir, log_file, host)
    failure = f"sentry did not start on {host}:{port}"
    wait_started(
        process, lambda: sentry_answers(port + 1, host), failure=failure, log_file=log_file, timeout_seconds=30
    )
    return process


def trust_anchors(data_dir: Path) -> str:
    """The root certificate sentry signs under: what every sidecar needs in DAPR_TRUST_ANCHORS."""
    return (data_dir / "ca.crt").read_text()
