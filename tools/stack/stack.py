"""The whole platform on free loopback ports: apps from dapr.yaml (plus test-only apps), real daprd."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tools.servers import (
    CREDENTIALS,
    PLACEMENT_PORTS,
    SCHEDULER_PORTS,
    ensure_credentials,
    ensure_secrets,
    janitor_command,
    load_profile,
    start_placement,
    start_scheduler,
    start_sentry,
    trust_anchors,
)
from tools.servers.jaeger import query_url
from tools.servers.replicas import REPLICATED, check_replicas, instance_name
from tools.stack.network import Loopback, Network
from tools.stack.processes import Managed, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
DAPRD = ROOT / ".dapr" / "bin" / "runtime" / "daprd"
BOOT_TIMEOUT = 120.0


@dataclass
class AppProcess:
    """One app and its sidecar, on ports kept across restarts."""

    app_id: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    protocol: str = "http"
    """How the sidecar talks to the app (the run file's appProtocol): `http`, or `grpc` for identity."""
    topics: tuple[str, ...] = ()
    """For a test-only app: the topics its sidecar may subscribe to (the shipped apps' are in the pub/sub YAML)."""
    workflow_host: bool = False
    """Its sidecar hosts workflows (placementHostAddress in dapr.yaml): it gets this run's placement and scheduler."""
    instance: int = 1
    """Which instance of its app id it is (Stack's `replicas`): each has its own ports, app process and sidecar."""
    app_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    internal_grpc_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    """The sidecar's Prometheus endpoint."""
    app_metrics_port: int = field(default_factory=free_port)
    """The app's own Prometheus endpoint (METRICS_PORT, servicekit.metrics)."""
    app: Managed | None = None
    sidecar: Managed | None = None
    app_token: str = ""
    """What its sidecar presents to the app (APP_API_TOKEN); the harness issues one per app."""
    dapr_token: str = ""
    """What the app presents to its own sidecar (DAPR_API_TOKEN)."""

    @property
    def name(self) -> str:
        """Its key in `Stack.apps` and its logs' name: the app id, `orders.2` for a second instance."""
        return instance_name(self.app_id, self.instance)

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def sidecar_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        """Where the app serves its Prometheus metrics."""
        return f"http://127.0.0.1:{self.app_metrics_port}/metrics"


def _http_live(app_url: str) -> bool:
    return httpx.get(f"{app_url}/healthz", timeout=1).status_code == 200


def grpc_serving(port: int) -> bool:
    """Whether a gRPC app answers SERVING on the standard health service (grpc.health.v1)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def new_run_dir(kind: str, name: str = "") -> Path:
    """A folder of its own for one run's data and logs: `.data/<kind>/[<name>-]<time>-<pid>`.

    The pid keeps two runs started in the same second (two checkouts, two engineers) apart.
    """
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    return ROOT / ".data" / kind / (f"{name}-{stamp}" if name else stamp)


def _read_run_file() -> list[dict[str, object]]:
    run_file = yaml.safe_load((ROOT / "dapr.yaml").read_text())
    apps: list[dict[str, object]] = run_file["apps"]
    return apps


def _run_file_common() -> dict[str, object]:
    common: dict[str, object] = yaml.safe_load((ROOT / "dapr.yaml").read_text())["common"]
    return common


class Stack:
    """Render components for this run, start the profile's servers and every app with its sidecar, and stop them all."""

    def __init__(
        self,
        run_dir: Path,
        *,
        profile: str | None = None,
        extra_apps: list[AppProcess] | None = None,
        rate_limit_tiers: list[dict[str, object]] | None = None,
        app_env: dict[str, dict[str, str]] | None = None,
        replicas: int = 1,
        network: Network | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.network: Network = network or Loopback()
        """Where each process runs and the addresses they reach each other on (tools/stack/network.py)."""
        self.profile = profile or os.environ.get("JUNCTION_PROFILE", "local")
        """The component profile (components/<name>/); `make test PROFILE=<name>` sets JUNCTION_PROFILE."""
        self.rate_limit_tiers = rate_limit_tiers
        self.servers = load_profile(self.profile)
        self.kinds = self.servers.kinds()
        self.server_ports = {name: free_port(kind.ports) for name, kind in self.kinds.items()}
        """Each server's base port in this run (the profile's ports are `make run`'s)."""
        self.server_processes: dict[str, Managed] = {}
        self.janitor: Managed | None = None
        self.sentry: Managed | None = None
        self.sentry_port = free_port(2)  # its health endpoint takes the next port
        self.placement: Managed | None = None
        self.placement_port = free_port(PLACEMENT_PORTS)
        self.scheduler: Managed | None = None
        self.scheduler_port = free_port(SCHEDULER_PORTS)
        self.apps: dict[str, AppProcess] = {}
        for entry in _read_run_file():
            command = [sys.executable if part == ".venv/bin/python" else str(part) for part in entry["command"]]  # type: ignore[attr-defined]
            env = {str(k): str(v) for k, v in dict(entry.get("env") or {}).items()}  # type: ignore[call-overload]
            protocol = str(entry.get("appProtocol") or _run_file_common()["appProtocol"])
            hosts = bool(entry.get("placementHostAddress"))
            self.apps[str(entry["appID"])] = AppProcess(
                str(entry["appID"]), command, env, protocol, workflow_host=hosts
            )
        for extra in extra_apps or []:
            self.apps[extra.app_id] = extra
        for app_id, env in (app_env or {}).items():
            self.apps[app_id].env.update(env)
        self.replicated = REPLICATED if check_replicas(replicas) > 1 else ()
        """The apps that run `replicas` instances (tools/servers/replicas.py); the others run one."""
        for app_id in self.replicated:
            first = self.apps[app_id]
            for instance in range(2, replicas + 1):
                extra = AppProcess(app_id, list(first.command), dict(first.env), first.protocol, instance=instance)
                self.apps[extra.name] = extra

    def instances(self, app_id: str) -> list[AppProcess]:
        """Every instance of an app id (one unless it is replicated), the first one first."""
        return sorted((a for a in self.apps.values() if a.app_id == app_id), key=lambda a: a.instance)

    @property
    def app_ids(self) -> list[str]:
        """Each app id once, in start order."""
        return list(dict.fromkeys(app.app_id for app in self.apps.values()))

    @property
    def trace_query_url(self) -> str:
        """This run's trace backend: Jaeger's UI and HTTP API (`/api/services`, `/api/traces?service=<app-id>`)."""
        return query_url(self.server_ports["jaeger"], self.network.server_host)

    # ---- set-up -------------------------------------------------------------------------
    def _render(self) -> None:
        """Copy the profile's YAML into the run folder, pointing it at this run's ports and files."""
        for folder in ("components/common", f"components/{self.profile}", "config"):
            target = self.run_dir / folder
            shutil.copytree(ROOT / folder, target, dirs_exist_ok=True)
            for path in target.glob("*.yaml"):
                path.write_text(self._this_run(path.read_text()))
        for app in self.apps.values():
            if not (self.run_dir / "config" / f"{app.app_id}.yaml").exists():
                self._render_test_app(app)
        ensure_secrets(self.run_dir)
        # One pair of tokens per app id: its instances share them (with-credentials reads them by app id).
        for app_id, tokens in ensure_credentials(self.run_dir, self.app_ids).items():
            for app in self.instances(app_id):
                app.app_token, app.dapr_token = tokens["APP_API_TOKEN"], tokens["DAPR_API_TOKEN"]
        limits = yaml.safe_load((ROOT / "apps" / "gateway" / "ratelimits.yaml").read_text())
        if self.rate_limit_tiers is not None:
            limits["tiers"] = self.rate_limit_tiers
        (self.run_dir / "ratelimits.yaml").write_text(yaml.safe_dump(limits))

    def _this_run(self, text: str) -> str:
        """Point a component file or a setting at this run's folder and server ports."""
        text = text.replace(".data/", str(self.run_dir) + "/")
        for name, kind in self.kinds.items():
            for offset in range(kind.ports):
                ours, theirs = self.servers.servers[name] + offset, self.server_ports[name] + offset
                text = text.replace(f"127.0.0.1:{ours}", f"{self.network.server_host}:{theirs}")
        return text

    def _render_test_app(self, app: AppProcess) -> None:
        """A test-only app's sidecar: no app may call it, it reads no secret and publishes nothing."""
        config = yaml.safe_load((self.run_dir / "config" / "gateway.yaml").read_text())
        config["metadata"]["name"] = app.app_id
        config["spec"]["secrets"]["scopes"] = [
            {"storeName": scope["storeName"], "defaultAccess": "deny"} for scope in config["spec"]["secrets"]["scopes"]
        ]
        (self.run_dir / "config" / f"{app.app_id}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        pubsub_file = self.run_dir / "components" / self.profile / "pubsub.yaml"
        pubsub = yaml.safe_load(pubsub_file.read_text())
        scopes = {"publishingScopes": "", "subscriptionScopes": ",".join(app.topics)}
        for entry in pubsub["spec"]["metadata"]:
            if entry["name"] in scopes:
                entry["value"] = f"{entry['value']};{app.app_id}={scopes[entry['name']]}"
        pubsub_file.write_text(yaml.safe_dump(pubsub, sort_keys=False))

    def _scoped_publisher(self, topic: str) -> str:
        """The app whose sidecar may publish `topic` (publishingScopes of the run's pub/sub component)."""
        pubsub = yaml.safe_load((self.run_dir / "components" / self.profile / "pubsub.yaml").read_text())
        scopes: str = next(
            entry["value"] for entry in pubsub["spec"]["metadata"] if entry["name"] == "publishingScopes"
        )
        for scope in scopes.replace(" ", "").split(";"):
            app_id, _, topics = scope.partition("=")
            if topic in topics.split(","):
                return app_id
        raise ValueError(f"no app may publish {topic}")

    def _env(self, app: AppProcess) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DAPR_", "APP_"))}
        return {
            **base,
            "PYTHONPATH": str(ROOT),
            "JUNCTION_ENV": "development",
            "DAPR_HOST_IP": self.network.host(app.name),  # what its sidecar registers in name resolution
            "APP_API_TOKEN": app.app_token,
            "DAPR_API_TOKEN": app.dapr_token,
            "JUNCTION_CREDENTIALS_DIR": str(self.run_dir / CREDENTIALS),
            "DAPR_TRUST_ANCHORS": trust_anchors(self.run_dir / "sentry"),
            "APP_ID": app.app_id,
            "APP_PORT": str(app.app_port),
            "DAPR_HTTP_PORT": str(app.http_port),
            "DAPR_GRPC_PORT": str(app.grpc_port),
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.run_dir}/{app.app_id}.db",
            "TENANT_DATABASE_URL_TEMPLATE": f"sqlite+aiosqlite:///{self.run_dir}/tenants/{{subdomain}}.db",
            "RATE_LIMITS_FILE": str(self.run_dir / "ratelimits.yaml"),
            "TRACE_QUERY_URL": self.trace_query_url,  # the gateway reads the operator page's trace view there
            "TRACE_UI_URL": self.trace_query_url,  # and links each trace to Jaeger's own UI (a placeholder here)
            "HEALTH_APPS": json.dumps(
                sorted(a for a in self.app_ids if a not in ("gateway",) and not a.startswith("probe"))
            ),
            **{key: self._this_run(value) for key, value in app.env.items()},
            "METRICS_PORT": str(app.app_metrics_port),  # this run's, over the run file's fixed one
            # The profile's settings win over the run file's (a DATABASE_URL on PostgreSQL, say).
            **{key: self._this_run(value.replace("{app_id}", app.app_id)) for key, value in self.servers.env.items()},
        }

    def setting(self, app_id: str, name: str) -> str:
        """What an app of this run is given as `name` (its DATABASE_URL, say): tests read its stores through it."""
        return str(self._env(self.apps[app_id])[name])

    def _daprd(self, app: AppProcess) -> list[str]:
        components = self.run_dir / "components"
        workflows = (
            [
                "--placement-host-address",
                f"{self.network.server_host}:{self.placement_port}",
                "--scheduler-host-address",
                f"{self.network.server_host}:{self.scheduler_port}",
            ]
            if app.workflow_host
            else []
        )
        return [
            str(DAPRD),
            "--app-id",
            app.app_id,
            "--app-port",
            str(app.app_port),
            "--app-protocol",
            app.protocol,
            "--dapr-http-port",
            str(app.http_port),
            "--dapr-grpc-port",
            str(app.grpc_port),
            "--dapr-internal-grpc-port",
            str(app.internal_grpc_port),
            "--dapr-internal-grpc-listen-address",  # where other sidecars call it: the address it registers
            self.network.host(app.name),
            "--metrics-port",
            str(app.metrics_port),
            "--metrics-listen-address",
            "127.0.0.1",
            "--dapr-listen-addresses",
            "127.0.0.1",
            "--resources-path",
            str(components / "common"),
            "--resources-path",
            str(components / self.profile),
            "--config",
            str(self.run_dir / "config" / f"{app.app_id}.yaml"),
            "--enable-mtls",
            "--sentry-address",
            f"{self.network.server_host}:{self.sentry_port}",
            "--enable-app-health-check",
            "--app-health-check-path",
            "/healthz",
            # The run file's health-check pace, so tests see what `make run` does (see dapr.yaml).
            "--app-health-probe-interval",
            str(_run_file_common()["appHealthProbeInterval"]),
            "--app-health-threshold",
            str(_run_file_common()["appHealthThreshold"]),
            "--log-level",
            "info",
            *workflows,
        ]

    # ---- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        if not DAPRD.exists():
            raise RuntimeError(f"{DAPRD} is missing: run `bash tools/dapr/install` (make test does)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._render()
        self.start_sentry()
        self.start_control_plane()
        for name in self.kinds:
            self.start_server(name)
        if "redis" in self.kinds:
            self.start_janitor()
        for app in self.apps.values():
            self._launch(app)
        for app in self.apps.values():
            self.wait_ready(app.name)

    def _launch(self, app: AppProcess, *, sidecar: bool = True, process: bool = True) -> None:
        env = self._env(app)
        logs = self.run_dir / "logs"
        if sidecar:
            log = logs / f"{app.name}.daprd.log"
            app.sidecar = Managed(f"{app.name}.daprd", self._daprd(app), env=env, cwd=self.run_dir, log=log)
            self.network.within(app.name, app.sidecar.start)
        if process:
            app.app = Managed(f"{app.name}.app", app.command, env=env, cwd=ROOT, log=logs / f"{app.name}.app.log")
            self.network.within(app.name, app.app.start)

    def wait_ready(self, app_id: str, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until the app answers its liveness probe, its sidecar reports healthy and lets calls through to it.

        `app_id` names an instance (a key of `apps`: `orders`, `orders.2`); so do the other methods below.
        """
        app = self.apps[app_id]

        def healthy() -> bool:
            for managed in (app.app, app.sidecar):
                if managed is None or not managed.running():
                    raise RuntimeError(f"{app_id} exited during start-up:\n{managed.tail() if managed else ''}")
            try:
                live = grpc_serving(app.app_port) if app.protocol == "grpc" else _http_live(app.app_url)
                return live and httpx.get(f"{app.sidecar_url}/v1.0/healthz", timeout=1).status_code < 300
            except httpx.HTTPError:
                return False

        def callable_through_sidecar() -> bool:
            # daprd refuses calls to its app until its own health probe has passed (every 2 s here): an app
            # restarted just after that probe ran is live, yet not callable for up to 2 s. A sidecar
            # invoking its own app id calls its own app, never another instance.
            try:
                answer = httpx.get(
                    f"{app.sidecar_url}/v1.0/invoke/{app.app_id}/method/healthz",
                    headers={"dapr-api-token": app.dapr_token},
                    timeout=2,
                )
            except httpx.HTTPError:
                return False
            return answer.status_code < 500  # the app answered (a test app without /healthz says 404)

        wait_for(lambda: self.network.within(app_id, healthy), timeout=timeout, what=f"{app_id} and its sidecar")
        wait_for(
            lambda: self.network.within(app_id, callable_through_sidecar),
            timeout=timeout,
            what=f"{app_id} callable through its sidecar",
        )

    def stop_app(self, app_id: str) -> None:
        """Stop an app and its sidecar (both process groups)."""
        app = self.apps[app_id]
        for managed in (app.app, app.sidecar):
            if managed is not None:
                managed.stop()

    def start_app(self, app_id: str, *, env: dict[str, str] | None = None) -> None:
        """Start an app and its sidecar again on the same ports, optionally with changed settings."""
        app = self.apps[app_id]
        if env is not None:
            app.env = {**app.env, **env}
        self._launch(app)
        self.wait_ready(app_id)

    def kill_app(self, app_id: str) -> None:
        """Kill an app's process at once (no shutdown), leaving its sidecar up."""
        managed = self.apps[app_id].app
        if managed is not None and managed.process is not None:
            os.killpg(managed.process.pid, signal.SIGKILL)
            managed.process.wait(timeout=5)
            managed.process = None

    def pause_app(self, app_id: str, *, paused: bool = True) -> None:
        """Freeze (SIGSTOP) or thaw (SIGCONT) an app's process: it stays connected but answers nothing."""
        managed = self.apps[app_id].app
        if managed is not None and managed.process is not None:
            os.killpg(managed.process.pid, signal.SIGSTOP if paused else signal.SIGCONT)

    # ---- crashes: SIGKILL of process groups this harness started, restarts on the same ports ---
    def kill_sidecar(self, app_id: str) -> None:
        """Kill an app's sidecar at once, leaving the app up."""
        managed = self.apps[app_id].sidecar
        if managed is not None:
            managed.kill()

    def kill_both(self, app_id: str) -> None:
        """Kill an app and its sidecar at once."""
        app = self.apps[app_id]
        for managed in (app.app, app.sidecar):
            if managed is not None:
                managed.kill()

    def restart(self, app_id: str) -> None:
        """Start again whichever of an app and its sidecar is not running (same ports); wait until ready."""
        app = self.apps[app_id]
        down = [managed is None or not managed.running() for managed in (app.sidecar, app.app)]
        self._launch(app, sidecar=down[0], process=down[1])
        self.wait_ready(app_id)

    def kill_broker(self) -> None:
        """Kill the pub/sub broker at once: what it had not yet made durable is lost."""
        self.server_processes[self.servers.broker].kill()

    def start_broker(self) -> None:
        """Start the broker again on this run's port and data folder, so its persisted data comes back."""
        self.start_server(self.servers.broker)

    def start_server(self, name: str) -> None:
        """Start one of the profile's servers on this run's port and data folder."""
        managed = Managed(name, [], env={}, cwd=self.run_dir, log=self.run_dir / "logs" / f"{name}.log")
        port, kind, host = self.server_ports[name], self.kinds[name], self.network.server_host
        managed.process = self.network.within(None, lambda: kind.launch(port, self.run_dir / name, managed.log, host))
        self.server_processes[name] = managed

    def start_sentry(self) -> None:
        """Start sentry, the certificate authority every sidecar's mTLS identity comes from."""
        log = self.run_dir / "logs" / "sentry.log"
        self.sentry = Managed("sentry", [], env={}, cwd=self.run_dir, log=log)
        host = self.network.server_host
        self.sentry.process = self.network.within(
            None, lambda: start_sentry(self.sentry_port, self.run_dir / "sentry", log, host)
        )

    def start_control_plane(self) -> None:
        """Start placement and scheduler, which the workflow hosts' sidecars (admin's) need."""
        logs, sentry_dir, host = self.run_dir / "logs", self.run_dir / "sentry", self.network.server_host
        self.placement = Managed("placement", [], env={}, cwd=self.run_dir, log=logs / "placement.log")
        self.placement.process = self.network.within(
            None,
            lambda: start_placement(
                self.placement_port,
                logs / "placement.log",
                sentry_port=self.sentry_port,
                sentry_dir=sentry_dir,
                host=host,
            ),
        )
        self.scheduler = Managed("scheduler", [], env={}, cwd=self.run_dir, log=logs / "scheduler.log")
        self.scheduler.process = self.network.within(
            None,
            lambda: start_scheduler(
                self.scheduler_port,
                self.run_dir / "scheduler",
                logs / "scheduler.log",
                sentry_port=self.sentry_port,
                sentry_dir=sentry_dir,
                host=host,
            ),
        )

    def start_janitor(self) -> None:
        """Start the stream janitor beside the broker, as tools/servers does; nothing waits for it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DAPR_", "APP_"))}
        command = janitor_command(self.server_ports["redis"], host=self.network.server_host)
        log = self.run_dir / "logs" / "janitor.log"
        self.janitor = Managed("janitor", command, env={**env, "JUNCTION_ENV": "development"}, cwd=ROOT, log=log)
        self.network.within(None, self.janitor.start)

    def publish(self, topic: str, cloud_event_id: str, data: dict[str, object], *, via: str | None = None) -> None:
        """Publish raw event data through an app's sidecar (the topic's publisher unless told), as a
        misbehaving or replaying producer would."""
        app = self.apps[via or self._scoped_publisher(topic)]
        response = self.network.within(
            app.name,
            lambda: httpx.post(
                f"{app.sidecar_url}/v1.0/publish/pubsub/{topic}",
                params={"metadata.cloudevent.id": cloud_event_id, "metadata.cloudevent.type": topic},
                json=data,
                headers={"dapr-api-token": app.dapr_token},
                timeout=10,
            ),
        )
        response.raise_for_status()

    def invoke(
        self, via: str, app_id: str, path: str, *, json: object = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST to another app through `via`'s sidecar, the way that app's own code would."""
        return self.network.within(
            via,
            lambda: httpx.post(
                f"{self.apps[via].sidecar_url}/{path.lstrip('/')}",
                json=json,
                headers={**(headers or {}), "dapr-app-id": app_id, "dapr-api-token": self.apps[via].dapr_token},
                timeout=30,
            ),
        )

    def sidecar_log(self, app_id: str) -> str:
        managed = self.apps[app_id].sidecar
        return managed.log.read_text(errors="replace") if managed else ""

    def stop(self) -> None:
        for app in self.apps.values():
            self.stop_app(app.name)
        for managed in (self.janitor, *self.server_processes.values(), self.scheduler, self.placement, self.sentry):
            if managed is not None:
                managed.stop()

    def crashed(self) -> list[Managed]:
        """The apps, sidecars and control-plane processes that exited without the harness stopping them."""
        managed = [m for app in self.apps.values() for m in (app.app, app.sidecar)]
        managed += [self.sentry, self.placement, self.scheduler]
        return [m for m in managed if m is not None and m.process is not None and not m.running()]

    def log_tails(self, lines: int = 30) -> str:
        parts = []
        for app in self.apps.values():
            for managed in (app.app, app.sidecar):
                if managed is not None:
                    parts.append(managed.tail_section(lines))
        return "\n".join(parts)

    def app_log(self, app_id: str) -> str:
        managed = self.apps[app_id].app
        return managed.log.read_text(errors="replace") if managed else ""
