"""What the renderer reads: dapr.yaml's apps, components/profiles.yaml, the component folders and config/."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.servers.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]
RUN_FILE = ROOT / "dapr.yaml"
COMPONENTS = ROOT / "components"
CONFIG = ROOT / "config"
COMMON = COMPONENTS / "common"
DEPLOYED_PROFILES = ("redis", "nats", "kafka", "postgres-rabbitmq")
"""The profiles that leave one machine. `local` keeps its state in SQLite files and its secrets in a
local file beside each sidecar, which no second machine shares (docs/scaling.md)."""
DEFAULT_PROFILE = "redis"
"""docker compose's profile when none is chosen: Redis state and Redis Streams on one redis-server."""

Resource = dict[str, Any]


@dataclass(frozen=True)
class RunApp:
    """One app of dapr.yaml, with the common settings filled in."""

    app_id: str
    port: int
    protocol: str
    config_file: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """One entry of components/profiles.yaml: its servers (kind -> port) and its apps' settings."""

    name: str
    servers: dict[str, int]
    env: dict[str, str]


def run_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(RUN_FILE.read_text())
    return loaded


def run_apps() -> list[RunApp]:
    spec = run_file()
    common = spec.get("common") or {}
    return [
        RunApp(
            app_id=str(app["appID"]),
            port=int(app["appPort"]),
            protocol=str(app.get("appProtocol") or common.get("appProtocol") or "http"),
            config_file=(ROOT / str(app["configFilePath"])).resolve(),
            env={str(k): str(v) for k, v in (app.get("env") or {}).items()},
        )
        for app in spec["apps"]
    ]


def run_common() -> dict[str, Any]:
    """dapr.yaml's `common` block: resources paths, API listen addresses, the app health check."""
    common: dict[str, Any] = run_file().get("common") or {}
    return common


def profile(name: str) -> Profile:
    entry = yaml.safe_load((COMPONENTS / "profiles.yaml").read_text())[name]
    servers = {str(kind): int(port) for kind, port in (entry.get("servers") or {}).items()}
    env = {str(k): str(v) for k, v in (entry.get("env") or {}).items()}
    return Profile(name, servers, env)


def app_env(app: RunApp, chosen: Profile) -> dict[str, str]:
    """What `make run PROFILE=<name>` gives the app (tools/servers run_file_for): its own env, then the profile's."""
    return {**app.env, **{k: v.replace("{app_id}", app.app_id) for k, v in chosen.env.items()}}


def documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def folder_resources(folder: Path) -> list[tuple[str, Resource]]:
    """(file name, resource) for every resource of a component folder, in file order."""
    return [(path.name, doc) for path in sorted(folder.glob("*.yaml")) for doc in documents(path)]


def profile_resources(name: str) -> list[tuple[str, Resource]]:
    return folder_resources(COMPONENTS / name)


LOOPBACK = re.compile(r"127\.0\.0\.1:(\d+)")


def service_hosts(chosen: Profile) -> dict[int, str]:
    """Loopback port -> the service name that serves it once the profile leaves one machine (every port of
    a server that takes several, such as Jaeger's OTLP port after its query port)."""
    return {port + offset: kind for kind, port in chosen.servers.items() for offset in range(KINDS[kind].ports)}


def move_servers(text: str, hosts: dict[int, str]) -> str:
    """Name each 127.0.0.1:<port> of a profile's server by its service (redis:6379); refuse unknown ports."""

    def replace(match: re.Match[str]) -> str:
        port = int(match.group(1))
        if port not in hosts:
            raise ValueError(f"127.0.0.1:{port} is no server of the profile (components/profiles.yaml)")
        return f"{hosts[port]}:{port}"

    return LOOPBACK.sub(replace, text)
