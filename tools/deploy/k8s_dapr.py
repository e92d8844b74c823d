"""The Dapr resources of deploy/k8s, from config/ and components/ with what a cluster does differently.

- Configuration: config/<app-id>.yaml without `nameResolution` (Kubernetes' DNS resolver is daprd's default
  there), with every access-control policy in the namespace the apps run in (SPIFFE ids carry it) and the
  spans sent to the `jaeger` Service (tracing.otel);
- Resiliency, Subscription and the common components: copied as they are;
- the secret stores keep their names and scopes and become `secretstores.kubernetes`;
- a profile's components name their servers by Service (redis:6379), and the credentials they carry
  become `secretKeyRef`s to Kubernetes Secrets, which the operator resolves (auth.secretStore: kubernetes).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tools.deploy.sources import (
    COMMON,
    DEPLOYED_PROFILES,
    Resource,
    RunApp,
    documents,
    folder_resources,
    move_servers,
    profile,
    profile_resources,
    run_apps,
    service_hosts,
)
from tools.servers import jaeger

NAMESPACE = "junction"
"""Part of every workload's identity (spiffe://public/ns/junction/<app-id>): the ACLs name it."""
SECRET_REFS = {
    ("state.redis", "redisPassword"): ("redis", "password"),
    ("pubsub.redis", "redisPassword"): ("redis", "password"),
    ("state.postgresql", "connectionString"): ("postgres-state", "connectionString"),
    ("pubsub.rabbitmq", "connectionString"): ("rabbitmq", "connectionString"),
}
"""(component type, metadata name) -> (Kubernetes Secret, key): values that carry a credential in a cluster."""
KUBERNETES_STORE = "secretstores.kubernetes"


def _in_namespace(resource: Resource) -> Resource:
    placed = copy.deepcopy(resource)
    placed["metadata"] = {**placed.get("metadata", {}), "namespace": NAMESPACE}
    return placed


def trace_hosts() -> dict[int, str]:
    """The trace backend's ports -> its Service (jaeger:16687): every profile names it on the same ports."""
    return {port: kind for port, kind in service_hosts(profile(DEPLOYED_PROFILES[0])).items() if kind == "jaeger"}


def trace_query_url() -> str:
    """Jaeger's query API (UI and HTTP API, its first port) by its Service: the gateway's TRACE_QUERY_URL."""
    port = min(trace_hosts())
    return jaeger.query_url(port, host=trace_hosts()[port])


def configuration(app: RunApp) -> Resource:
    """The app's configFilePath (config/<app-id>.yaml) as a cluster's sidecar needs it."""
    (resource,) = documents(app.config_file)
    placed = _in_namespace(resource)
    placed["spec"].pop("nameResolution", None)
    otel = placed["spec"].get("tracing", {}).get("otel")
    if otel:  # the cluster's trace backend, by its Service name, as every server of a profile
        otel["endpointAddress"] = move_servers(otel["endpointAddress"], trace_hosts())
    for policy in placed["spec"].get("accessControl", {}).get("policies") or []:
        policy["namespace"] = NAMESPACE
    return placed


def configurations() -> list[Resource]:
    return [configuration(app) for app in run_apps()]


def common_resources(kind: str) -> list[Resource]:
    """Every resource of components/common/ of that kind (Resiliency, Subscription, Component)."""
    return [_in_namespace(doc) for _, doc in folder_resources(COMMON) if doc["kind"] == kind]


def secret_stores() -> list[Resource]:
    """The profiles' secret stores (the same names and scopes in each) as Kubernetes secret stores."""
    found: dict[str, Resource] = {}
    for name in DEPLOYED_PROFILES:
        for _, doc in profile_resources(name):
            if doc["spec"]["type"].startswith("secretstores."):
                store = {
                    "apiVersion": doc["apiVersion"],
                    "kind": "Component",
                    "metadata": {"name": doc["metadata"]["name"], "namespace": NAMESPACE},
                    "spec": {"type": KUBERNETES_STORE, "version": "v1", "metadata": []},
                    **({"scopes": doc["scopes"]} if "scopes" in doc else {}),
                }
                if found.setdefault(store["metadata"]["name"], store) != store:
                    raise ValueError(f"profile {name} scopes {store['metadata']['name']} unlike the others")
    return list(found.values())


def _metadata_entry(component_type: str, entry: dict[str, Any], hosts: dict[int, str]) -> dict[str, Any]:
    reference = SECRET_REFS.get((component_type, entry["name"]))
    if reference:
        return {"name": entry["name"], "secretKeyRef": {"name": reference[0], "key": reference[1]}}
    value = entry.get("value")
    if isinstance(value, str):
        value = move_servers(value, hosts)
        if re.search(r"://[^/\s]*@", value) or ".data/" in value:
            raise ValueError(f"{component_type} {entry['name']}={value!r}: a credential or a local file in a cluster")
    return {**entry, "value": value}


def profile_components(name: str) -> list[Resource]:
    """A profile's state stores and broker, for its overlay; the secret stores are in the base."""
    hosts = service_hosts(profile(name))
    rendered: list[Resource] = []
    for _, doc in profile_resources(name):
        component_type = str(doc["spec"]["type"])
        if component_type.startswith("secretstores."):
            continue
        placed = _in_namespace(doc)
        metadata = [_metadata_entry(component_type, entry, hosts) for entry in doc["spec"].get("metadata") or []]
        placed["spec"]["metadata"] = metadata
        if any("secretKeyRef" in entry for entry in metadata):
            placed["auth"] = {"secretStore": "kubernetes"}
        rendered.append(placed)
    return rendered
