"""Start the servers a component profile needs on 127.0.0.1, and stop only those this tool started.

    python -m tools.servers up [PROFILE]     start (or reuse) them, create .data/secrets.json
    python -m tools.servers down             stop the ones `up` started

Beside redis runs the stream janitor (tools/janitor.py), which keeps the streams bounded. Every
profile also gets sentry, the mesh's certificate authority (sidecars talk mTLS), and fresh API
tokens for each app under .data/credentials/ (tools/dapr/with-credentials hands them out).

components/profiles.yaml lists, per profile, the servers it needs and their ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PIDS = DATA / "run"
JANITOR_INTERVAL_SECONDS = 300.0
"""How often the stream janitor sweeps the profile's redis (it keeps every entry younger than an hour)."""
SENTRY_PORT = 4800
"""Where sentry signs the sidecars' certificates (127.0.0.1); its health endpoint is the next port."""
SENTRY_BINARY = ROOT / ".dapr" / "bin" / "runtime" / "sentry"
SENTRY_CONFIG = ROOT / "config" / "sentry.yaml"
CREDENTIALS = "credentials"
"""The folder (under .data/ or a test run's folder) with one `<app-id>.env` of API tokens per app."""
SECRET_FILES = {"secrets.json": ("jwt-signing-key",), "provisioning-secrets.json": ("provisioner-key",)}
"""The local secret stores' files (see components/local/*secret*.yaml) and the keys each holds."""


def profile_servers(profile: str) -> dict[str, int]:
    profiles = yaml.safe_load((ROOT / "components" / "profiles.yaml").read_text())
    if profile not in profiles or not (ROOT / "components" / profile).is_dir():
        raise SystemExit(f"unknown profile {profile!r}: see components/profiles.yaml")
    return {str(name): int(port) for name, port in (profiles[profile].get("servers") or {}).items()}


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


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


def start_redis(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start a redis-server on 127.0.0.1:port in its own process group; wait until it answers PING."""
    binary = apt_install("redis-server", "redis-server")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
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
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 15
    while not redis_answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"redis-server did not start on 127.0.0.1:{port}; see {log_file}")
        time.sleep(0.1)
    return process


def janitor_command(port: int, *, interval_seconds: float = JANITOR_INTERVAL_SECONDS) -> list[str]:
    """The stream janitor (tools/janitor.py) for the redis on `port`: it trims only acknowledged entries."""
    return [sys.executable, "-m", "tools.janitor", "--port", str(port), "--interval", str(interval_seconds)]


def start_janitor(port: int, log_file: Path) -> subprocess.Popen[bytes]:
    """Start the stream janitor in its own process group; nothing waits for it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        return subprocess.Popen(
            janitor_command(port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _running(pid_file: Path) -> bool:
    try:
        os.killpg(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def ensure_secrets(folder: Path) -> None:
    """Create the local secret stores' files once, with random keys."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, names in SECRET_FILES.items():
        path = folder / file_name
        if not path.exists():
            path.write_text(json.dumps({name: secrets.token_urlsafe(48) for name in names}, indent=2))
            path.chmod(0o600)


def run_file_apps(run_file: Path = ROOT / "dapr.yaml") -> list[str]:
    return [str(app["appID"]) for app in yaml.safe_load(run_file.read_text())["apps"]]


def ensure_credentials(folder: Path, app_ids: list[str]) -> dict[str, dict[str, str]]:
    """Write new API tokens for every app: `APP_API_TOKEN` (sidecar -> app) and `DAPR_API_TOKEN` (app -> sidecar).

    Each app gets its own pair, so one app's tokens open neither another app nor its sidecar.
    """
    target = folder / CREDENTIALS
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)
    issued: dict[str, dict[str, str]] = {}
    for app_id in app_ids:
        tokens = {"APP_API_TOKEN": secrets.token_urlsafe(32), "DAPR_API_TOKEN": secrets.token_urlsafe(32)}
        path = target / f"{app_id}.env"
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in tokens.items()))
        issued[app_id] = tokens
    return issued


def sentry_answers(health_port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", health_port), timeout=1) as conn:
            conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            status_line = conn.recv(64).split(b"\r\n", 1)[0].split()
            return len(status_line) > 1 and status_line[1] == b"200"
    except OSError:
        return False


def start_sentry(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start sentry on 127.0.0.1:port in its own process group; wait until it is healthy.

    On its first start it creates the mesh's root and issuer certificates in `data_dir`; sidecars
    trust that root through DAPR_TRUST_ANCHORS (trust_anchors()).
    """
    if not SENTRY_BINARY.exists():
        raise SystemExit(f"{SENTRY_BINARY} is missing: run `bash tools/dapr/install` (make setup does)")
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                str(SENTRY_BINARY),
                "--config",
                str(SENTRY_CONFIG),
                "--issuer-credentials",
                str(data_dir),
                "--trust-domain",
                "localhost",
                "--listen-address",
                "127.0.0.1",
                "--port",
                str(port),
                "--healthz-listen-address",
                "127.0.0.1",
                "--healthz-port",
                str(port + 1),
                "--enable-metrics=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while not sentry_answers(port + 1):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"sentry did not start on 127.0.0.1:{port}; see {log_file}")
        time.sleep(0.1)
    return process


def trust_anchors(data_dir: Path) -> str:
    """The root certificate sentry signs under: what every sidecar needs in DAPR_TRUST_ANCHORS."""
    return (data_dir / "ca.crt").read_text()


def up(profile: str) -> None:
    PIDS.mkdir(parents=True, exist_ok=True)
    ensure_secrets(DATA)
    ensure_credentials(DATA, run_file_apps())
    if sentry_answers(SENTRY_PORT + 1) and (DATA / "sentry" / "ca.crt").exists():
        print(f"[servers] reusing the sentry already on 127.0.0.1:{SENTRY_PORT}", flush=True)
    elif port_open(SENTRY_PORT) or port_open(SENTRY_PORT + 1):
        raise SystemExit(f"127.0.0.1:{SENTRY_PORT} or {SENTRY_PORT + 1} is taken by something that is not sentry")
    else:
        sentry = start_sentry(SENTRY_PORT, DATA / "sentry", DATA / "sentry.log")
        (PIDS / "sentry.pid").write_text(str(sentry.pid))
        print(f"[servers] sentry started on 127.0.0.1:{SENTRY_PORT} (pid {sentry.pid})", flush=True)
    for name, port in profile_servers(profile).items():
        if name != "redis":
            raise SystemExit(f"tools/servers does not know how to start {name}")
        if redis_answers(port):
            print(f"[servers] reusing the redis already on 127.0.0.1:{port}", flush=True)
        elif port_open(port):
            raise SystemExit(f"127.0.0.1:{port} is taken by something that is not redis")
        else:
            process = start_redis(port, DATA / "redis", DATA / "redis.log")
            (PIDS / "redis.pid").write_text(str(process.pid))
            print(f"[servers] redis-server started on 127.0.0.1:{port} (pid {process.pid})", flush=True)
        if not _running(PIDS / "janitor.pid"):  # a previous `up` may have left its janitor running
            janitor = start_janitor(port, DATA / "janitor.log")
            (PIDS / "janitor.pid").write_text(str(janitor.pid))
            print(f"[servers] stream janitor started for 127.0.0.1:{port} (pid {janitor.pid})", flush=True)


def _stop_group(pid: int, *, grace_seconds: float = 10.0) -> None:
    """SIGTERM a process group and wait until its leader is gone (SIGKILL after the grace period).

    Waiting matters: a `make run` started right after would otherwise find the old server still
    answering on its port, reuse it, and lose it a moment later.
    """
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def down() -> None:
    for pid_file in PIDS.glob("*.pid"):
        pid = int(pid_file.read_text())
        try:
            _stop_group(pid)
            print(f"[servers] stopped {pid_file.stem} (pid {pid})", flush=True)
        except ProcessLookupError:
            pass
        pid_file.unlink()


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "up"
    if command == "up":
        up(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("JUNCTION_PROFILE", "local"))
    elif command == "down":
        down()
    else:
        raise SystemExit(__doc__)
