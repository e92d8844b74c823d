"""deploy/k8s against the repo it is rendered from: every app of dapr.yaml deployed with its sidecar
settings and probes, each overlay's components those of its profile, the Configurations, Resiliency and
Subscriptions the repo's own, Secrets read only where config/ allows, only stateless apps scaled out.
"""

from __future__ import annotations

import copy
import importlib
import re
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from servicekit import ServiceSettings
from tests.unit.deploy.helpers import (
    COMMON,
    NAMESPACE,
    OVERLAYS,
    PROFILES,
    ROOT,
    RUN_APPS,
    RUN_FILE,
    Resource,
    component_files,
    documents,
    of,
)

STATELESS = {"gateway", "notifications", "analytics"}
NOT_SECRET = {"TRACE_QUERY_URL"}
"""Settings whose names look like a secret's that carry none: Jaeger's query API by Service, which takes no login."""


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_everything_lives_in_the_namespace_the_identities_name(overlay: str) -> None:
    for resource in OVERLAYS[overlay]:
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == NAMESPACE, resource["metadata"]["name"]
    for configuration in of(OVERLAYS[overlay], "Configuration").values():
        for policy in configuration["spec"]["accessControl"]["policies"]:
            assert policy["namespace"] == NAMESPACE


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_each_app_is_deployed_with_its_run_file_sidecar_settings(app_id: str) -> None:
    run_app = RUN_APPS[app_id]
    deployment = of(OVERLAYS["redis"], "Deployment")[app_id]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["dapr.io/enabled"] == "true"
    assert annotations["dapr.io/app-id"] == app_id
    assert annotations["dapr.io/app-port"] == str(run_app["appPort"])
    assert annotations["dapr.io/app-protocol"] == run_app.get("appProtocol", COMMON["appProtocol"])
    assert annotations["dapr.io/config"] == app_id
    assert annotations["dapr.io/enable-api-logging"] == "false"
    assert annotations["dapr.io/enable-app-health-check"] == str(COMMON["enableAppHealthCheck"]).lower()
    assert annotations["dapr.io/app-health-check-path"] == COMMON["appHealthCheckPath"]
    assert annotations["dapr.io/app-health-probe-interval"] == str(COMMON["appHealthProbeInterval"])
    assert annotations["dapr.io/app-health-threshold"] == str(COMMON["appHealthThreshold"])
    for limit in ("cpu-request", "cpu-limit", "memory-request", "memory-limit"):
        assert annotations[f"dapr.io/sidecar-{limit}"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert env["APP_ID"] == app_id
    assert env["APP_PORT"] == str(run_app["appPort"])
    assert env["JUNCTION_ENV"] == "production"
    assert container["command"] == ["python", "-m", f"apps.{app_id}"]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert "memory" in container["resources"]["limits"]


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_each_app_serves_its_metrics_on_a_port_of_their_own_that_the_pod_annotations_name(app_id: str) -> None:
    port = RUN_APPS[app_id]["env"]["METRICS_PORT"]
    assert int(port) != RUN_APPS[app_id]["appPort"]  # never the app's own port (the gateway's is public)
    pod = of(OVERLAYS["redis"], "Deployment")[app_id]["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    assert (annotations["prometheus.io/scrape"], annotations["prometheus.io/port"]) == ("true", port)
    assert annotations["prometheus.io/path"] == "/metrics"
    (container,) = pod["spec"]["containers"]
    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert (env["METRICS_PORT"], env["METRICS_HOST"]) == (port, "0.0.0.0")  # a scraper is outside the pod
    assert {"name": "metrics", "containerPort": int(port)} in container["ports"]


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_each_app_is_probed_on_healthz_where_it_listens(app_id: str) -> None:
    run_app = RUN_APPS[app_id]
    protocol = run_app.get("appProtocol", COMMON["appProtocol"])
    (container,) = of(OVERLAYS["redis"], "Deployment")[app_id]["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = container[probe]
        if "httpGet" in check:  # only the public edge listens beyond loopback
            assert app_id == "gateway"
            assert check["httpGet"] == {"path": COMMON["appHealthCheckPath"], "port": run_app["appPort"]}
        else:
            assert check["exec"]["command"] == ["python", "-m", "tools.deploy.probe", protocol, str(run_app["appPort"])]


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_each_overlay_loads_the_components_the_run_file_loads_with_its_profile(overlay: str) -> None:
    """components/common and components/<profile>, by name and type; secret stores become Kubernetes' own."""
    expected = {
        c["metadata"]["name"]: (c["spec"]["type"], c.get("scopes"))
        for folder in ("common", overlay)
        for c in component_files(ROOT / "components" / folder)
    }
    deployed = {name: (c["spec"]["type"], c.get("scopes")) for name, c in of(OVERLAYS[overlay], "Component").items()}
    assert set(deployed) == set(expected)
    for name, (component_type, scopes) in expected.items():
        wanted = "secretstores.kubernetes" if component_type.startswith("secretstores.") else component_type
        assert deployed[name] == (wanted, scopes), name
    assert [c["spec"]["type"] for c in component_files(ROOT / RUN_FILE["common"]["resourcesPaths"][0])] == [
        c["spec"]["type"] for c in component_files(ROOT / "components" / "common")
    ]


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_servers_are_named_by_service_and_credentials_come_from_secrets(overlay: str) -> None:
    servers = PROFILES[overlay]["servers"]
    for component in of(OVERLAYS[overlay], "Component").values():
        for entry in component["spec"]["metadata"]:
            value = str(entry.get("value", ""))
            assert "127.0.0.1" not in value and ".data/" not in value, entry
            assert not re.search(r"://[^/\s]*@", value), f"credentials in {entry['name']}"
            if "secretKeyRef" in entry:
                assert component["auth"] == {"secretStore": "kubernetes"}
            if entry["name"] in {"redisPassword", "connectionString"}:
                assert "secretKeyRef" in entry, (component["metadata"]["name"], entry["name"])
        text = yaml.safe_dump(component)
        for found in re.findall(r"([a-z]+):(\d{4})", text):
            assert servers.get(found[0]) == int(found[1]), found


def test_the_resiliency_and_subscriptions_are_the_repos_own() -> None:
    """Copied from components/common as they are."""
    common = [doc for path in sorted((ROOT / "components" / "common").glob("*.yaml")) for doc in documents(path)]
    for overlay in OVERLAYS.values():
        for kind in ("Resiliency", "Subscription"):
            source = {d["metadata"]["name"]: copy.deepcopy(d) for d in common if d["kind"] == kind}
            deployed = of(overlay, kind)
            assert {name: r["spec"] for name, r in deployed.items()} == {n: r["spec"] for n, r in source.items()}
            assert {name: r.get("scopes") for name, r in deployed.items()} == {
                n: r.get("scopes") for n, r in source.items()
            }


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_each_configuration_is_the_apps_own_with_cluster_identities(app_id: str) -> None:
    (source,) = documents(ROOT / RUN_APPS[app_id]["configFilePath"])
    expected = copy.deepcopy(source["spec"])
    del expected["nameResolution"]  # Kubernetes' DNS resolver, daprd's default in a cluster
    expected["tracing"]["otel"]["endpointAddress"] = "jaeger:16687"  # the cluster's trace backend, by Service
    for policy in expected["accessControl"]["policies"]:
        policy["namespace"] = NAMESPACE
    assert of(OVERLAYS["redis"], "Configuration")[app_id]["spec"] == expected


def test_each_app_may_read_exactly_the_secrets_its_configuration_allows() -> None:
    resources = OVERLAYS["redis"]
    roles = of(resources, "Role")
    readable: dict[str, set[str]] = {app_id: set() for app_id in RUN_APPS}
    for binding in of(resources, "RoleBinding").values():
        (rule,) = roles[binding["roleRef"]["name"]]["rules"]
        assert rule["verbs"] == ["get"] and rule["resources"] == ["secrets"]
        for subject in binding["subjects"]:
            readable[subject["name"]] |= set(rule["resourceNames"])
    for app_id in RUN_APPS:
        (config,) = documents(ROOT / RUN_APPS[app_id]["configFilePath"])
        allowed = {s for scope in config["spec"]["secrets"]["scopes"] for s in scope.get("allowedSecrets", [])}
        assert readable[app_id] == allowed, app_id
        pod = of(resources, "Deployment")[app_id]["spec"]["template"]
        assert pod["spec"]["serviceAccountName"] == app_id
        assert pod["metadata"]["annotations"]["dapr.io/disable-builtin-k8s-secret-store"] == "true"


def test_only_the_stateless_apps_scale_out_and_keep_a_pod_through_disruptions() -> None:
    resources = OVERLAYS["redis"]
    deployments = of(resources, "Deployment")
    autoscalers, budgets = of(resources, "HorizontalPodAutoscaler"), of(resources, "PodDisruptionBudget")
    assert set(autoscalers) == set(budgets) == STATELESS
    for app_id, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if app_id in STATELESS:
            assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
            hpa = autoscalers[app_id]["spec"]
            assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": app_id}
            assert hpa["minReplicas"] >= 2
            assert hpa["metrics"][0]["containerResource"]["container"] == "app"
            assert budgets[app_id]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        else:
            assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    services = of(resources, "Service")
    assert set(services) == {"gateway", "jaeger"}  # the public edge, and the trace backend (test_k8s_tracing.py)
    service = services["gateway"]
    assert (
        service["spec"]["selector"].items() <= deployments["gateway"]["spec"]["template"]["metadata"]["labels"].items()
    )


def _settings_read(app_id: str) -> set[str]:
    """The environment variables the app's settings class reads."""
    module = importlib.import_module(f"apps.{app_id}.settings")
    (settings,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value.__module__ == module.__name__
    ]
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        names |= {str(c) for c in alias.choices} if isinstance(alias, AliasChoices) else {name.upper()}
    return names


@pytest.mark.parametrize("app_id", sorted(RUN_APPS))
def test_every_setting_a_profile_gives_an_app_that_it_reads_reaches_it(app_id: str) -> None:
    given = set(RUN_APPS[app_id].get("env") or {}) | {k for p in PROFILES.values() for k in p.get("env") or {}}
    (container,) = of(OVERLAYS["redis"], "Deployment")[app_id]["spec"]["template"]["spec"]["containers"]
    assert given & _settings_read(app_id) <= {entry["name"] for entry in container["env"]}


def _secret_refs(value: Any) -> set[str]:
    """The Secrets every `secretKeyRef` below `value` names."""
    if isinstance(value, list):
        return {name for item in value for name in _secret_refs(item)}
    if not isinstance(value, dict):
        return set()
    found = {str(value["secretKeyRef"]["name"])} if "secretKeyRef" in value else set()
    return found | {name for item in value.values() for name in _secret_refs(item)}


def _secrets_named(resources: list[Resource]) -> set[str]:
    names = _secret_refs(resources)
    for resource in resources:
        if resource["kind"] == "Deployment" and resource["metadata"]["name"] in RUN_APPS:
            annotations = resource["spec"]["template"]["metadata"]["annotations"]
            names |= {annotations["dapr.io/api-token-secret"], annotations["dapr.io/app-token-secret"]}
        if resource["kind"] == "Role":
            names |= {n for rule in resource["rules"] for n in rule["resourceNames"]}
    return names


def test_no_secret_is_in_the_manifests_and_each_one_named_is_documented() -> None:
    """Values that carry a credential come from Secrets; docs/scaling.md tells how to create every one."""
    docs = (ROOT / "docs" / "scaling.md").read_text()
    (loop,) = re.findall(r"for app in ([a-z ]+); do", docs)
    for overlay in OVERLAYS.values():
        for deployment in of(overlay, "Deployment").values():
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                for entry in container.get("env", []):
                    if entry["name"] in NOT_SECRET:
                        assert not re.search(r"://[^/\s]*@", entry["value"]), entry["name"]
                    elif re.search(r"TOKEN|PASSWORD|DATABASE|URL|KEY", entry["name"]):
                        assert "valueFrom" in entry, entry["name"]
        for name in _secrets_named(overlay):
            per_app = re.fullmatch(r"([a-z]+)-(dapr-api-token|app-api-token)", name)
            if per_app:
                assert per_app.group(1) in loop.split() and f"$app-{per_app.group(2)}" in docs, name
            else:
                assert f"secret generic {name} " in docs, name
    assert set(loop.split()) == set(RUN_APPS)
