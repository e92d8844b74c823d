"""The trace backend every sidecar and app sends its spans to: Jaeger as docker-compose.yml runs it.

Its configuration is tools/servers/jaeger.py's on every interface of the pod, in a ConfigMap; the `jaeger`
Service carries the query service (UI and HTTP API, the gateway's TRACE_QUERY_URL) and the two OTLP ports
after it, the ports the Configurations' `tracing.otel` and the apps' OTEL_EXPORTER_OTLP_ENDPOINT name. One
replica: traces live in its memory (a second would hold other traces), and a restart loses them. The
configuration serves no health check, so the kubelet probes the query API, as tools/servers/jaeger.py waits on it.
"""

from __future__ import annotations

from typing import Any

from tools.deploy.k8s_dapr import NAMESPACE, trace_hosts
from tools.deploy.k8s_plan import APP_CPU_REQUEST
from tools.deploy.k8s_workloads import CONTAINER_SECURITY, POD_SECURITY, labels
from tools.deploy.sources import Resource
from tools.servers import jaeger

JAEGER = "jaeger"
"""The Deployment, its ConfigMap and the Service the rendered endpoints name (trace_hosts)."""
JAEGER_IMAGE = "jaegertracing/jaeger:2.12.0"
"""docker-compose.yml's (tests/unit/deploy holds the two together)."""
CONFIG_DIR = "/etc/jaeger"
CONFIG_FILE = "junction.yaml"
PORT_NAMES = ("query", "otlp-grpc", "otlp-http")
"""The ports from jaeger.py's base port up, in its order."""
MEMORY_REQUEST = "256Mi"
MEMORY_LIMIT = "512Mi"
"""241 MiB resident after `make bench` (docs/benchmarks.md); jaeger.MAX_TRACES bounds what it keeps."""


def ports() -> dict[str, int]:
    """Port name -> the port the profiles name it on (16686 and the two after)."""
    return dict(zip(PORT_NAMES, sorted(trace_hosts()), strict=True))


def config_map() -> Resource:
    """tools/servers/jaeger.py's configuration on every interface of the pod (its comment, about files it writes,
    left out)."""
    text = jaeger.config(ports()["query"], host="0.0.0.0")
    config = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": JAEGER, "namespace": NAMESPACE, "labels": labels(JAEGER)},
        "data": {CONFIG_FILE: config},
    }


def _container() -> dict[str, Any]:
    check = {"httpGet": {"path": "/api/services", "port": "query"}}
    return {
        "name": JAEGER,
        "image": JAEGER_IMAGE,
        "args": ["--config", f"file:{CONFIG_DIR}/{CONFIG_FILE}"],
        "ports": [{"name": name, "containerPort": port} for name, port in ports().items()],
        "resources": {
            "requests": {"cpu": APP_CPU_REQUEST, "memory": MEMORY_REQUEST},
            "limits": {"memory": MEMORY_LIMIT},
        },
        "startupProbe": {**check, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 30},
        "livenessProbe": {**check, "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 3},
        "readinessProbe": {**check, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 2},
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }


def deployment() -> Resource:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": JAEGER, "namespace": NAMESPACE, "labels": labels(JAEGER)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": JAEGER}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(JAEGER)},
                "spec": {
                    "automountServiceAccountToken": False,  # it never calls the Kubernetes API
                    "securityContext": POD_SECURITY,
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_container()],
                    "volumes": [{"name": "config", "configMap": {"name": JAEGER}}],
                },
            },
        },
    }


def service() -> Resource:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": JAEGER, "namespace": NAMESPACE, "labels": labels(JAEGER)},
        "spec": {
            "selector": {"app.kubernetes.io/name": JAEGER},
            "ports": [
                {"name": name, "port": port, "targetPort": name, "protocol": "TCP"} for name, port in ports().items()
            ],
        },
    }


def trace_backend() -> list[Resource]:
    return [config_map(), deployment(), service()]
