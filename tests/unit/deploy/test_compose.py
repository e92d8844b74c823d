"""docker-compose.yml against the compose specification and against dapr.yaml, so the two never drift:
every app, its port, protocol and Configuration, the components it loads (common, resiliency included,
then a profile), the settings each profile gives it, and the servers each profile needs.

No container engine runs here: this is what can be checked without one (docs/scaling.md).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tools.servers import KINDS, jaeger, kafka, nats, rabbitmq

ROOT = Path(__file__).resolve().parents[3]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
RUN_FILE: dict[str, Any] = yaml.safe_load((ROOT / "dapr.yaml").read_text())
COMMON: dict[str, Any] = RUN_FILE["common"]
RUN_APPS = {str(app["appID"]): app for app in RUN_FILE["apps"]}
PROFILES: dict[str, Any] = yaml.safe_load((ROOT / "components" / "profiles.yaml").read_text())
COMPOSE_PROFILES = ("redis", "nats", "kafka", "postgres-rabbitmq")
DEFAULT_PROFILE = "redis"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PROFILE_VARIABLE = re.compile(r"\$\{JUNCTION_PROFILE:-([a-z-]+)\}")


def _flags(sidecar: dict[str, Any]) -> dict[str, list[str]]:
    """--name=value flags of the sidecar's entrypoint and command, by name (bare flags answer "")."""
    found: dict[str, list[str]] = {}
    for argument in [*sidecar["entrypoint"][1:], *sidecar["command"]]:
        name, _, value = argument.removeprefix("--").partition("=")
        found.setdefault(name, []).append(value)
    return found


def _flag(sidecar: dict[str, Any], name: str) -> str:
    (value,) = _flags(sidecar)[name]
    return value


def _mounts(service: dict[str, Any], profile: str = DEFAULT_PROFILE) -> dict[str, str]:
    """Container path -> host path (or volume name) of the service's mounts, with the profile chosen."""
    mounts: dict[str, str] = {}
    for entry in service.get("volumes", []):
        source, target = PROFILE_VARIABLE.sub(profile, entry).split(":")[:2]
        mounts[target] = source
    return mounts


def _env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _moved(value: str, profile: str) -> str:
    """A setting of dapr.yaml or profiles.yaml with each 127.0.0.1:<port> named by the compose service serving it
    (any of a server's ports: Jaeger's OTLP port follows its query port)."""
    chosen = PROFILES[profile]["servers"].items()
    servers = {port + offset: kind for kind, port in chosen for offset in range(KINDS[kind].ports)}
    return re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"{servers[int(m.group(1))]}:{m.group(1)}", value)


def test_the_file_follows_the_compose_specification() -> None:
    vendored = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(vendored.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_every_app_of_the_run_file_runs_beside_its_own_sidecar() -> None:
    apps = {name for name, service in SERVICES.items() if service.get("command", [None])[:2] == ["python", "-m"]}
    apps = {name for name in apps if SERVICES[name]["command"][2] == f"apps.{name}"}
    assert apps == set(RUN_APPS)
    for app_id in RUN_APPS:
        sidecar = SERVICES[f"{app_id}-dapr"]
        assert sidecar["network_mode"] == f"service:{app_id}"
        assert sidecar["image"] == "daprio/daprd:1.18.3"
        assert sidecar["entrypoint"][0] == "./daprd"
        assert SERVICES[app_id]["image"] == f"junction:{VERSION}"
        assert SERVICES[app_id]["build"] == "."


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_each_app_listens_and_is_called_on_its_run_file_port(app_id: str) -> None:
    run_app, app, sidecar = RUN_APPS[app_id], SERVICES[app_id], SERVICES[f"{app_id}-dapr"]
    protocol = run_app.get("appProtocol", COMMON["appProtocol"])
    assert app["environment"]["APP_ID"] == app_id
    assert app["environment"]["APP_PORT"] == str(run_app["appPort"])
    assert _flag(sidecar, "app-id") == app_id
    assert _flag(sidecar, "app-port") == str(run_app["appPort"])
    assert _flag(sidecar, "app-protocol") == protocol
    # The container's health: the app on its port (gRPC health for a gRPC app), then its sidecar.
    assert app["healthcheck"]["test"] == [
        *("CMD", "python", "-m", "tools.deploy.probe", protocol, str(run_app["appPort"])),
        *("--sidecar", app["environment"]["DAPR_HTTP_PORT"]),
    ]


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_each_sidecar_loads_its_own_configuration_file(app_id: str) -> None:
    sidecar = SERVICES[f"{app_id}-dapr"]
    config = Path(_flag(sidecar, "config"))
    host_folder = _mounts(sidecar)[str(config.parent)]
    assert (ROOT / host_folder / config.name).resolve() == (ROOT / RUN_APPS[app_id]["configFilePath"]).resolve()


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
@pytest.mark.parametrize("profile", COMPOSE_PROFILES)
def test_each_sidecar_loads_the_run_files_components_with_the_profile_swapped(app_id: str, profile: str) -> None:
    """dapr.yaml's resourcesPaths in order, its profile folder (local) replaced by the chosen profile's
    rendering, which holds the same component names."""
    sidecar = SERVICES[f"{app_id}-dapr"]
    mounts = _mounts(sidecar, profile)
    loaded = [Path(mounts[path]) for path in _flags(sidecar)["resources-path"]]
    run_paths = [Path(path) for path in COMMON["resourcesPaths"]]
    assert len(loaded) == len(run_paths)
    assert (ROOT / loaded[0]).resolve() == (ROOT / run_paths[0]).resolve() == ROOT / "components" / "common"
    assert (ROOT / loaded[1]).resolve() == ROOT / "deploy" / "compose" / "components" / profile

    def names(folder: Path) -> set[str]:
        return {
            str(doc["metadata"]["name"])
            for path in folder.glob("*.yaml")
            for doc in yaml.safe_load_all(path.read_text())
            if doc
        }

    assert names(ROOT / loaded[1]) == names(ROOT / run_paths[1]) == names(ROOT / "components" / profile)


def test_the_resiliency_policies_reach_every_sidecar_from_the_common_folder() -> None:
    """Every sidecar mounts components/common, which holds the one Resiliency; no profile folder has another."""
    common = ROOT / "components" / "common"
    kinds = [doc["kind"] for path in sorted(common.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())]
    assert kinds.count("Resiliency") == 1
    rendered = ROOT / "deploy" / "compose" / "components"
    assert not [path for path in rendered.rglob("*.yaml") if "kind: Resiliency" in path.read_text()]
    resiliency = yaml.safe_load((common / "resiliency.yaml").read_text())
    assert set(resiliency["spec"]["targets"]["apps"]) <= set(RUN_APPS)
    for app_id in RUN_APPS:
        assert _mounts(SERVICES[f"{app_id}-dapr"])["/components/common"] == "./components/common"


def test_the_sidecars_keep_the_run_files_common_settings() -> None:
    for app_id in RUN_APPS:
        sidecar = SERVICES[f"{app_id}-dapr"]
        assert _flag(sidecar, "dapr-listen-addresses") == COMMON["apiListenAddresses"]
        assert ("enable-app-health-check" in _flags(sidecar)) == COMMON["enableAppHealthCheck"]
        assert _flag(sidecar, "app-health-check-path") == COMMON["appHealthCheckPath"]
        assert _flag(sidecar, "app-health-probe-interval") == str(COMMON["appHealthProbeInterval"])
        assert _flag(sidecar, "app-health-threshold") == str(COMMON["appHealthThreshold"])
        assert _flag(sidecar, "log-level") == COMMON["logLevel"]
        assert _flag(sidecar, "enable-api-logging") == "false"
        assert "enable-mtls" in _flags(sidecar)
        assert _flag(sidecar, "sentry-address") == "sentry:50001"


def test_only_the_workflow_host_gets_placement_and_scheduler() -> None:
    hosts = {app_id for app_id, app in RUN_APPS.items() if "placementHostAddress" in app}
    assert hosts == {"admin"}
    for app_id in RUN_APPS:
        flags = _flags(SERVICES[f"{app_id}-dapr"])
        assert ("placement-host-address" in flags) == (app_id in hosts)
        assert ("scheduler-host-address" in flags) == (app_id in hosts)


@pytest.mark.parametrize("profile", COMPOSE_PROFILES)
def test_each_profile_gives_the_apps_what_make_run_gives_them(profile: str) -> None:
    """dapr.yaml's env, then the profile's (tools/servers run_file_for), servers named by their service."""
    for app_id, run_app in RUN_APPS.items():
        profile_env = {k: str(v).replace("{app_id}", app_id) for k, v in (PROFILES[profile].get("env") or {}).items()}
        expected = {k: _moved(str(v), profile) for k, v in {**(run_app.get("env") or {}), **profile_env}.items()}
        service = SERVICES[app_id]
        given: dict[str, str] = {}
        for entry in service["env_file"]:
            path, required = (entry, True) if isinstance(entry, str) else (entry["path"], entry.get("required", True))
            path = PROFILE_VARIABLE.sub(profile, path)
            if path.startswith(".data/"):
                continue  # the app's own tokens, made by compose-secrets
            if required or (ROOT / path).exists():
                given |= _env_file(ROOT / path)
        assert given == expected, app_id
        assert not set(expected) & set(service["environment"]), "environment: would override the env files"


@pytest.mark.parametrize("profile", COMPOSE_PROFILES)
def test_each_profile_env_file_starts_its_servers_and_mounts_its_components(profile: str) -> None:
    chosen = _env_file(ROOT / "deploy" / "compose" / f"{profile}.env")
    assert chosen["JUNCTION_PROFILE"] == profile
    active = set(filter(None, chosen["COMPOSE_PROFILES"].split(",")))
    running = {
        name
        for name, service in SERVICES.items()
        if not set(service.get("profiles", [])) or active & set(service["profiles"])
    }
    assert set(PROFILES[profile]["servers"]) <= running
    others = {kind for name in COMPOSE_PROFILES if name != profile for kind in PROFILES[name]["servers"]}
    assert not (others - set(PROFILES[profile]["servers"]) - {"redis"}) & running, "another profile's broker runs"


def test_a_broker_set_up_runs_in_its_brokers_network_for_its_profile() -> None:
    for broker in ("nats", "kafka", "rabbitmq"):
        command = ["python", "-m", "tools.deploy.broker_init", broker]
        (setup,) = [service for service in SERVICES.values() if service.get("command") == command]
        assert setup["network_mode"] == f"service:{broker}"
        assert setup["profiles"] == SERVICES[broker]["profiles"]


def test_the_servers_run_as_tools_servers_runs_them() -> None:
    redis = SERVICES["redis"]["command"]
    assert redis[redis.index("--appendfsync") + 1] == "always"
    assert redis[redis.index("--appendonly") + 1] == "yes"
    # Kafka: tools/servers/kafka.py's properties, but for the addresses, as the image's KAFKA_* variables.
    addresses = {"controller.quorum.voters", "listeners", "advertised.listeners", "log.dirs"}
    properties = dict(line.split("=", 1) for line in kafka.server_properties(9092, Path("/x")).splitlines())
    expected = {"KAFKA_" + k.replace(".", "_").upper(): v for k, v in properties.items() if k not in addresses}
    environment = SERVICES["kafka"]["environment"]
    assert {k: v for k, v in environment.items() if k in expected} == expected
    assert environment["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    # NATS and RabbitMQ: their configuration lines, but for what binds them to loopback.
    configs = COMPOSE["configs"]

    def lines(text: str) -> set[str]:
        return {line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")}

    assert lines(nats.CONFIG) <= lines(configs["nats-conf"]["content"])
    local_only = {"listeners.tcp.default", "loopback_users.guest"}
    wanted = {line for line in lines(rabbitmq.CONFIG) if line.split(" = ")[0] not in local_only}
    assert wanted <= lines(configs["rabbitmq-conf"]["content"])
    # Jaeger: tools/servers/jaeger.py's configuration on every interface of the network.
    assert yaml.safe_load(configs["jaeger-conf"]["content"]) == yaml.safe_load(jaeger.config(16686, host="0.0.0.0"))


def test_the_control_plane_is_the_pinned_dapr_release_with_mtls() -> None:
    for name in ("sentry", "placement", "scheduler"):
        assert SERVICES[name]["image"] == "daprio/dapr:1.18.3"
        assert SERVICES[name]["command"][0] == f"./{name}"
    for name in ("placement", "scheduler"):
        assert "--tls-enabled" in SERVICES[name]["command"]
    assert "--config=/config/sentry.yaml" in SERVICES["sentry"]["command"]
    assert _mounts(SERVICES["sentry"])["/config/sentry.yaml"] == "./config/sentry.yaml"


def test_every_named_volume_and_config_is_declared_and_used() -> None:
    used: set[str] = set()
    for service in SERVICES.values():
        used |= {source for source in _mounts(service).values() if not source.startswith(".")}
    assert used == set(COMPOSE["volumes"])
    configs = {entry["source"] for service in SERVICES.values() for entry in service.get("configs", [])}
    assert configs == set(COMPOSE["configs"])


def test_no_port_but_the_gateways_is_published_and_that_on_loopback() -> None:
    published = {name: service["ports"] for name, service in SERVICES.items() if "ports" in service}
    assert published == {"gateway": [f"127.0.0.1:{RUN_APPS['gateway']['appPort']}:{RUN_APPS['gateway']['appPort']}"]}
