"""deploy/k8s's trace backend: every span exporter the base names (the apps' OTEL_EXPORTER_OTLP_ENDPOINT, the
Configurations' tracing.otel) and the gateway's trace view (TRACE_QUERY_URL) reach a Service in the base, whose
pods listen there with tools/servers/jaeger.py's configuration, in docker-compose.yml's image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.unit.deploy.helpers import K8S, ROOT, RUN_APPS, Resource, build, of
from tools.servers import jaeger

BASE = build(K8S / "base")
COMPOSE_JAEGER: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["jaeger"]


def _host_port(address: str) -> tuple[str, int]:
    """(host, port) of a URL or a bare host:port, as daprd's `endpointAddress` takes it."""
    split = urlsplit(address if "://" in address else f"//{address}")
    assert split.hostname and split.port, address
    return split.hostname, split.port


def _served_at(host: str, port: int) -> tuple[Resource, int]:
    """The Deployment behind Service `host`'s `port`, and the container port the Service sends it to."""
    service = of(BASE, "Service")[host]
    (entry,) = [p for p in service["spec"]["ports"] if p["port"] == port]
    selector = service["spec"]["selector"].items()
    (deployment,) = [
        d for d in of(BASE, "Deployment").values() if selector <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    target = entry.get("targetPort", port)
    assert target in named or target in named.values(), (host, port)
    return deployment, named.get(target, target)


def _listens(deployment: Resource) -> dict[str, int]:
    """Where the Jaeger of `deployment` listens, by what for, read from the ConfigMap its container reads."""
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (mount,) = container["volumeMounts"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    files = of(BASE, "ConfigMap")[volume["configMap"]["name"]]["data"]
    (argument,) = [a for a in container["args"] if a.startswith("file:")]
    path = Path(argument.removeprefix("file:"))
    assert path.parent == Path(mount["mountPath"]), argument
    config = yaml.safe_load(files[path.name])
    protocols = config["receivers"]["otlp"]["protocols"]
    endpoints = {
        "query": config["extensions"]["jaeger_query"]["http"]["endpoint"],
        "otlp-grpc": protocols["grpc"]["endpoint"],
        "otlp-http": protocols["http"]["endpoint"],
    }
    assert {host for host, _ in map(_host_port, endpoints.values())} == {"0.0.0.0"}  # reachable from the Service
    return {role: _host_port(endpoint)[1] for role, endpoint in endpoints.items()}


def test_the_trace_backend_is_composes_image_with_tools_servers_configuration() -> None:
    deployment = of(BASE, "Deployment")["jaeger"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == COMPOSE_JAEGER["image"] == "jaegertracing/jaeger:2.12.0"
    assert container["args"] == COMPOSE_JAEGER["command"]
    assert deployment["spec"]["replicas"] == 1  # its traces live in its memory
    (config,) = of(BASE, "ConfigMap")["jaeger"]["data"].values()
    assert yaml.safe_load(config) == yaml.safe_load(jaeger.config(16686, host="0.0.0.0"))


def _env(app_id: str) -> dict[str, str]:
    (container,) = of(BASE, "Deployment")[app_id]["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry["value"] for entry in container["env"] if "value" in entry}


def test_every_span_exporter_and_the_trace_view_reach_a_service_that_serves_them() -> None:
    """Host and port of each: a Service of the base, a pod behind it, its Jaeger listening there for that."""
    # The apps export over gRPC (servicekit.tracing); each sidecar as its Configuration says.
    exporters = {f"{app_id} app": (_env(app_id)["OTEL_EXPORTER_OTLP_ENDPOINT"], "otlp-grpc") for app_id in RUN_APPS}
    for name, configuration in of(BASE, "Configuration").items():
        otel = configuration["spec"]["tracing"]["otel"]
        exporters[f"{name} sidecar"] = (otel["endpointAddress"], f"otlp-{otel['protocol']}")
    assert len(exporters) == 2 * len(RUN_APPS)
    for who, (address, role) in exporters.items():
        deployment, port = _served_at(*_host_port(address))
        assert port == _listens(deployment)[role], who
    query_url = _env("gateway")["TRACE_QUERY_URL"]
    assert urlsplit(query_url).scheme == "http"
    deployment, port = _served_at(*_host_port(query_url))
    assert port == _listens(deployment)["query"]
