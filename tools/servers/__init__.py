"""Start the servers a component profile needs on 127.0.0.1, and stop only those this tool started.

    python -m tools.servers up [PROFILE]     start (or reuse) them, create .data/secrets.json
    python -m tools.servers down             stop the ones `up` started
    python -m tools.servers run-file PROFILE [REPLICAS]
                                         the run file for `dapr run -f` with that profile (and
                                         REPLICAS instances of orders, payments, catalog)
    python -m tools.servers trace-ui PROFILE the trace UI's address (Jaeger) with that profile

Beside redis runs the stream janitor (tools/janitor.py), which keeps the streams bounded. Every
profile also gets sentry, the mesh's certificate authority (sidecars talk mTLS), placement and
scheduler (admin's tenant workflow needs them; tools/servers/control_plane.py), and fresh API
tokens for each app under .data/credentials/ (tools/dapr/with-credentials hands them out).

components/profiles.yaml lists, per profile, the servers it needs and their ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools.servers.control_plane import (
    PLACEMENT_PORT,
    PLACEMENT_PORTS,
    SCHEDULER_PORT,
    SCHEDULER_PORTS,
    start_placement,
    start_scheduler,
)
from tools.servers.jaeger import query_url
from tools.servers.kinds import KINDS, ServerKind
from tools.servers.processes import ROOT, apt_install, port_open
from tools.servers.redis import janitor_command, redis_answers, start_janitor, start_redis
from tools.servers.replicas import check_replicas, instance_folders, with_replicas
from tools.servers.sentry import SENTRY_PORT, sentry_answers, start_sentry, trust_anchors

__all__ = [
    "CREDENTIALS",
    "KINDS",
    "PLACEMENT_PORT",
    "PLACEMENT_PORTS",
    "SCHEDULER_PORT",
    "SCHEDULER_PORTS",
    "SENTRY_PORT",
    "Profile",
    "ServerKind",
    "apt_install",
    "ensure_credentials",
    "ensure_secrets",
    "janitor_command",
    "load_profile",
    "port_open",
    "redis_answers",
    "start_placement",
    "start_redis",
    "start_scheduler",
    "start_sentry",
    "trust_anchors",
]
DATA = ROOT / ".data"
PIDS = DATA / "run"
CREDENTIALS = "credentials"
"""The folder (under .data/ or a test run's folder) with one `<app-id>.env` of API tokens per app."""
SECRET_FILES = {"secrets.json": ("jwt-signing-key",), "provisioning-secrets.json": ("provisioner-key",)}
"""The local secret stores' files (see components/local/*secret*.yaml) and the keys each holds."""


@dataclass(frozen=True)
class Profile:
    """One entry of components/profiles.yaml: the servers a folder of components needs."""

    name: str
    servers: dict[str, int]
    """Server kind -> its base port on 127.0.0.1 (the components name these ports)."""
    broker: str
    """The server the `pubsub` component talks to (the one a broker-restart test restarts)."""
    env: dict[str, str] = field(default_factory=dict)
    """Settings every app gets with this profile (a DATABASE_URL, say); `{app_id}` is filled in."""

    def kinds(self) -> dict[str, ServerKind]:
        unknown = set(self.servers) - set(KINDS)
        if unknown:
            raise SystemExit(f"profile {self.name} needs {sorted(unknown)}: tools/servers knows {sorted(KINDS)}")
        return {name: KINDS[name] for name in self.servers}


def load_profile(name: str) -> Profile:
    profiles = yaml.safe_load((ROOT / "components" / "profiles.yaml").read_text())
    if name not in profiles or not (ROOT / "components" / name).is_dir():
        raise SystemExit(f"unknown profile {name!r}: see components/profiles.yaml")
    entry = profiles[name]
    servers = {str(server): int(port) for server, port in (entry.get("servers") or {}).items()}
    env = {str(k): str(v) for k, v in (entry.get("env") or {}).items()}
    return Profile(name, servers, str(entry.get("broker") or next(iter(servers))), env)


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


def run_file_for(profile: Profile, replicas: int = 1) -> Path:
    """dapr.yaml for `profile`: its component folder, and its settings in every app's env; with `replicas`
    above 1, that many instances of orders, payments and catalog (tools/servers/replicas.py).

    Written beside dapr.yaml (the CLI resolves a run file's relative paths from the file's folder).
    """
    if profile.name == "local" and check_replicas(replicas) == 1:
        return ROOT / "dapr.yaml"
    spec = yaml.safe_load((ROOT / "dapr.yaml").read_text())
    spec["common"]["resourcesPaths"] = [
        path.replace("./components/local", f"./components/{profile.name}") for path in spec["common"]["resourcesPaths"]
    ]
    for app in spec["apps"]:
        app["env"] = {
            **(app.get("env") or {}),
            **{k: v.replace("{app_id}", app["appID"]) for k, v in profile.env.items()},
        }
    if replicas > 1:
        spec = with_replicas(spec, replicas)
        instance_folders(spec)
    target = ROOT / f".dapr-run.{profile.name}{'' if replicas == 1 else f'.x{replicas}'}.yaml"
    target.write_text(
        "# Rendered by tools/servers from dapr.yaml for this profile; edit those, not this.\n"
        + yaml.safe_dump(spec, sort_keys=False)
    )
    return target


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


def up(profile_name: str) -> None:
    profile = load_profile(profile_name)
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
    _control_plane()
    for name, kind in profile.kinds().items():
        port = profile.servers[name]
        if kind.answers(port):
            print(f"[servers] reusing the {name} already on 127.0.0.1:{port}", flush=True)
        elif any(port_open(p) for p in range(port, port + kind.ports)):
            raise SystemExit(f"127.0.0.1:{port} is taken by something that is not {name}")
        else:
            process = kind.start(port, DATA / name, DATA / f"{name}.log")
            (PIDS / f"{name}.pid").write_text(str(process.pid))
            print(f"[servers] {name} started on 127.0.0.1:{port} (pid {process.pid})", flush=True)
        if name == "redis" and not _running(PIDS / "janitor.pid"):  # a previous `up` may have left it running
            janitor = start_janitor(port, DATA / "janitor.log")
            (PIDS / "janitor.pid").write_text(str(janitor.pid))
            print(f"[servers] stream janitor started for 127.0.0.1:{port} (pid {janitor.pid})", flush=True)


def _control_plane() -> None:
    """Start (or reuse) placement and scheduler, which admin's sidecar hosts its workflow with."""
    starters: dict[str, tuple[int, int, Callable[[], subprocess.Popen[bytes]]]] = {
        "placement": (
            PLACEMENT_PORT,
            PLACEMENT_PORTS,
            lambda: start_placement(
                PLACEMENT_PORT, DATA / "placement.log", sentry_port=SENTRY_PORT, sentry_dir=DATA / "sentry"
            ),
        ),
        "scheduler": (
            SCHEDULER_PORT,
            SCHEDULER_PORTS,
            lambda: start_scheduler(
                SCHEDULER_PORT,
                DATA / "scheduler",
                DATA / "scheduler.log",
                sentry_port=SENTRY_PORT,
                sentry_dir=DATA / "sentry",
            ),
        ),
    }
    for name, (port, count, launch) in starters.items():
        if sentry_answers(port + 1) and _running(PIDS / f"{name}.pid"):
            print(f"[servers] reusing the {name} already on 127.0.0.1:{port}", flush=True)
            continue
        if any(port_open(p) for p in range(port, port + count)):
            raise SystemExit(f"127.0.0.1:{port}-{port + count - 1} is taken by something that is not our {name}")
        process = launch()
        (PIDS / f"{name}.pid").write_text(str(process.pid))
        print(f"[servers] {name} started on 127.0.0.1:{port} (pid {process.pid})", flush=True)


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


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "up"
    if command == "run-file":  # print the run file of a profile, rendering it when needed
        replicas = int(argv[3]) if len(argv) > 3 else 1
        print(run_file_for(load_profile(argv[2] if len(argv) > 2 else "local"), replicas).name)
    elif command == "trace-ui":  # Jaeger's UI and query API (the gateway's TRACE_UI_URL and TRACE_QUERY_URL)
        print(query_url(load_profile(argv[2] if len(argv) > 2 else "local").servers["jaeger"]))
    elif command == "up":
        up(argv[2] if len(argv) > 2 else os.environ.get("JUNCTION_PROFILE", "local"))
    elif command == "down":
        down()
    else:
        raise SystemExit(__doc__)
