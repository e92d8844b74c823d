"""What docker-compose.yml mounts and reads per profile, rendered from components/ and the run file.

- deploy/compose/components/<profile>/: the profile's components with each server named by its compose
  service (redis:6379) and the local secret files at the paths the sidecars mount them on;
- deploy/compose/env/<profile>/<app>.env: the settings `make run PROFILE=<profile>` gives the app
  (dapr.yaml's env, then components/profiles.yaml's), servers moved the same way; only where there are any;
- deploy/compose/<profile>.env: for `docker compose --env-file`, which compose profile (the servers) and
  which folder of components the sidecars mount;
- deploy/compose/postgres/init.sql: the databases tools/servers makes for the postgres-rabbitmq profile.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from tools.deploy.emit import dump, header
from tools.deploy.sources import (
    DEFAULT_PROFILE,
    DEPLOYED_PROFILES,
    ROOT,
    Resource,
    app_env,
    move_servers,
    profile,
    profile_resources,
    run_apps,
    service_hosts,
)
from tools.servers.postgres import STATE_DATABASE, app_databases

OUT = ROOT / "deploy" / "compose"
SECRET_MOUNTS = {
    "secrets.json": PurePosixPath("/run/junction/secrets"),
    "provisioning-secrets.json": PurePosixPath("/run/junction/provisioning"),
}
"""Where a sidecar finds each local secret store's file (named volumes the `mesh-files` service fills)."""


def _value(name: str, value: Any, hosts: dict[int, str]) -> Any:
    if not isinstance(value, str):
        return value
    if name == "secretsFile":
        file_name = PurePosixPath(value).name
        return str(SECRET_MOUNTS[file_name] / file_name)
    moved = move_servers(value, hosts)
    if ".data/" in moved:
        raise ValueError(f"{name}={value!r} names a file of this machine: no container has it")
    return moved


def compose_component(resource: Resource, hosts: dict[int, str]) -> Resource:
    spec = resource.get("spec") or {}
    metadata = [
        {**entry, "value": _value(entry["name"], entry.get("value"), hosts)} for entry in spec.get("metadata") or []
    ]
    return {**resource, "spec": {**spec, "metadata": metadata}}


def _env_file(values: dict[str, str], sources: str) -> str:
    for key, value in values.items():
        if any(c in value for c in "$\"'\n "):
            raise ValueError(f"{key}={value!r} would need quoting in an env file")
    return header(sources) + "".join(f"{key}={value}\n" for key, value in values.items())


def rendered() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for name in DEPLOYED_PROFILES:
        chosen = profile(name)
        servers = "" if name == DEFAULT_PROFILE else name  # the default's redis runs in every profile
        files[OUT / f"{name}.env"] = _env_file(
            {"COMPOSE_PROFILES": servers, "JUNCTION_PROFILE": name}, "components/profiles.yaml"
        )
        hosts = service_hosts(chosen)
        for file_name, resource in profile_resources(name):
            files[OUT / "components" / name / file_name] = dump(
                [compose_component(resource, hosts)], f"components/{name}/{file_name}"
            )
        for app in run_apps():
            env = {key: move_servers(value, hosts) for key, value in app_env(app, chosen).items()}
            if env:
                sources = "dapr.yaml and components/profiles.yaml"
                files[OUT / "env" / name / f"{app.app_id}.env"] = _env_file(env, sources)
    databases = [name for name in app_databases() if name != STATE_DATABASE]
    files[OUT / "postgres" / "init.sql"] = header(
        "dapr.yaml (tools/servers/postgres.py app_databases)", comment="--"
    ) + "".join(f"CREATE DATABASE {name} OWNER junction;\n" for name in databases)
    return files
