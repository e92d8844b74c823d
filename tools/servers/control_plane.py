"""placement and scheduler, the control plane Dapr Workflow needs (built with the runtime into .dapr/bin/runtime).

admin hosts the tenant provisioning workflow: its sidecar finds its workflow actors through placement
and keeps their reminders in scheduler. Both run on 127.0.0.1 (or the address given: tools/netns) with
their data under the run's folder and talk mTLS with certificates from the same sentry as the sidecars
(the trust anchors of its ca.crt).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools.servers.processes import LOOPBACK, ROOT, wait_started
from tools.servers.sentry import TRUST_DOMAIN, listener, sentry_answers

RUNTIME = ROOT / ".dapr" / "bin" / "runtime"
PLACEMENT_PORT = 4810
"""placement's gRPC port on 127.0.0.1 for `make run`; health on the next port, its raft peer port after that."""
PLACEMENT_PORTS = 3
SCHEDULER_PORT = 4820
"""scheduler's gRPC port for `make run`; then its health port, its embedded etcd's client and peer ports."""
SCHEDULER_PORTS = 4


def _mtls(sentry_port: int, sentry_dir: Path, host: str) -> list[str]:
    return [
        "--tls-enabled",
        "--sentry-address",
        f"{host}:{sentry_port}",
        "--trust-anchors-file",
        str(sentry_dir / "ca.crt"),
        "--trust-domain",
        TRUST_DOMAIN,
    ]


def placement_command(port: int, *, sentry_port: int, sentry_dir: Path, host: str = LOOPBACK) -> list[str]:
    """placement on host:port (127.0.0.1 unless told), with sentry on the same host; its tables live in memory
    (sidecars report their actors again on reconnect)."""
    return [
        str(RUNTIME / "placement"),
        *listener(port, host),
        "--initial-cluster",
        f"dapr-placement-0={host}:{port + 2}",
        "--enable-metrics=false",
        *_mtls(sentry_port, sentry_dir, host),
    ]


def scheduler_command(
    port: int, data_dir: Path, *, sentry_port: int, sentry_dir: Path, host: str = LOOPBACK
) -> list[str]:
    """scheduler on host:port (127.0.0.1 unless told), with sentry on the same host, its embedded etcd on its own
    loopback, keeping its data in `data_dir`."""
    return [
        str(RUNTIME / "scheduler"),
        *listener(port, host),
        "--override-broadcast-host-port",
        f"{host}:{port}",
        "--etcd-client-listen-address",
        "127.0.0.1",
        "--etcd-client-port",
        str(port + 2),
        "--etcd-initial-cluster",
        f"dapr-scheduler-server-0=http://127.0.0.1:{port + 3}",
        "--etcd-data-dir",
        str(data_dir),
        "--enable-metrics=false",
        *_mtls(sentry_port, sentry_dir, host),
    ]


def start(
    command: list[str], health_port: int, log_file: Path, *, what: str, host: str = LOOPBACK
) -> subprocess.Popen[bytes]:
    """Start one control-plane server in its own process group; wait until its health endpoint says 200."""
    if not Path(command[0]).exists():
        raise SystemExit(f"{command[0]} is missing: run `bash tools/dapr/install` (make setup does)")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_started(
        process,
        lambda: sentry_answers(health_port, host),  # the same plain GET /healthz
        failure=f"{what} did not start on {host}:{health_port - 1}",
        log_file=log_file,
        timeout_seconds=60,
        poll_seconds=0.2,
    )
    return process


def start_placement(
    port: int, log_file: Path, *, sentry_port: int, sentry_dir: Path, host: str = LOOPBACK
) -> subprocess.Popen[bytes]:
    command = placement_command(port, sentry_port=sentry_port, sentry_dir=sentry_dir, host=host)
    return start(command, port + 1, log_file, what="placement", host=host)


def start_scheduler(
    port: int, data_dir: Path, log_file: Path, *, sentry_port: int, sentry_dir: Path, host: str = LOOPBACK
) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    command = scheduler_command(port, data_dir, sentry_port=sentry_port, sentry_dir=sentry_dir, host=host)
    return start(command, port + 1, log_file, what="scheduler", host=host)
