"""Replicas on one machine: more instances of orders, payments and catalog under the same app id.

Each further instance is its own app process beside its own daprd, on ports of its own, with the same
app id, Configuration, components and database (`make run REPLICAS=2`, `Stack(replicas=2)`). Its
sidecar registers its own address in the SQLite name-resolution table, and daprd picks one of an app
id's live addresses at random for every call. On the broker it joins its app's consumer, so an event
goes to one instance of the app: Redis Streams' consumer group, Kafka's consumer group, RabbitMQ's
queue, JetStream's durable consumer and its queue group (docs/scaling.md, per broker).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tools.servers.processes import ROOT

REPLICATED = ("catalog", "orders", "payments")
"""The apps `REPLICAS` multiplies; the others stay one instance (docs/scaling.md says why)."""
MAX_REPLICAS = 4
"""Kafka gives each topic 4 partitions (tools/servers/kafka.py): a fifth consumer of a group would idle."""
PORT_STEP = 10
"""An instance's fixed ports in a run file: the first instance's plus PORT_STEP per further instance
(orders: app 8103, 8113, ...; sidecar HTTP 3603, 3613, ...), clear of every other app's."""
PORT_KEYS = ("appPort", "daprHTTPPort", "daprGRPCPort", "daprInternalGRPCPort", "metricsPort")
PORT_SETTINGS = ("METRICS_PORT",)
FOLDERS = Path(".dapr") / "replicas"
"""Where a further instance of `make run` works (`.dapr/replicas/orders.2/`): the project's folder but for
its own `.dapr/logs/`. The dapr CLI names a log file after the app id and the second it starts, in the
app's folder, so two instances in one folder would write the same files."""


def instance_name(app_id: str, instance: int) -> str:
    """How the harness and the logs name an instance: the app id alone for the first, `orders.2` after."""
    return app_id if instance == 1 else f"{app_id}.{instance}"


def check_replicas(replicas: int) -> int:
    if not 1 <= replicas <= MAX_REPLICAS:
        raise SystemExit(f"REPLICAS must be between 1 and {MAX_REPLICAS}, not {replicas}")
    return replicas


def with_replicas(spec: dict[str, Any], replicas: int, apps: tuple[str, ...] = REPLICATED) -> dict[str, Any]:
    """A run file (dapr.yaml's shape) with `replicas - 1` more entries for each app of `apps`.

    A further entry keeps the app id, command, Configuration and settings, moves every fixed port by
    PORT_STEP per instance, and works in a folder of its own under FOLDERS (see `instance_folder`).
    """
    rendered = copy.deepcopy(spec)
    entries: list[dict[str, Any]] = []
    for entry in rendered["apps"]:
        entries.append(entry)
        if entry["appID"] not in apps:
            continue
        for instance in range(2, replicas + 1):
            step = PORT_STEP * (instance - 1)
            extra = copy.deepcopy(entry)
            for key in PORT_KEYS:
                if key in extra:
                    extra[key] = int(extra[key]) + step
            env = extra.get("env") or {}
            for key in PORT_SETTINGS:
                if key in env:
                    env[key] = str(int(env[key]) + step)
            extra["appDirPath"] = f"./{FOLDERS / instance_name(entry['appID'], instance)}"
            entries.append(extra)
    rendered["apps"] = entries
    return rendered


def instance_folder(app_dir: Path, root: Path = ROOT) -> Path:
    """Make `app_dir` a folder that works as the project's: a link to each of its top-level entries but
    `.dapr`, so relative paths (the command, `.data/` in the components and settings) reach the project's
    files while the CLI writes this instance's logs to `app_dir/.dapr/logs/`."""
    app_dir.mkdir(parents=True, exist_ok=True)
    (root / ".data").mkdir(exist_ok=True)  # made by `tools.servers up`, after the run file: linked before
    for entry in root.iterdir():
        link = app_dir / entry.name
        if entry.name not in (".dapr", ".git") and not link.is_symlink():
            link.symlink_to(entry)
    return app_dir


def instance_folders(spec: dict[str, Any]) -> None:
    """Prepare the folder of every further instance a run file names (`with_replicas`)."""
    for entry in spec["apps"]:
        if str(entry["appDirPath"]).startswith(f"./{FOLDERS}/"):
            instance_folder(ROOT / entry["appDirPath"])
