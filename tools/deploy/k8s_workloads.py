"""Each app's Deployment (dapr.io annotations from dapr.yaml), and the gateway's Service.

The apps listen on 127.0.0.1 as on one machine: only their sidecar, in the same pod, calls them, so
their probes run inside the container (`python -m tools.deploy.probe`). The gateway is the exception:
it listens on the pod's address for its Service, and the kubelet probes it there. Each app's metrics
server (METRICS_PORT, dapr.yaml) listens on the pod's address, where a scraper outside the pod finds it
by the `prometheus.io/*` annotations; the app's own port still serves no /metrics.
"""

from __future__ import annotations

from typing import Any

from tools.deploy.k8s_dapr import NAMESPACE, trace_hosts, trace_query_url
from tools.deploy.k8s_plan import APP_CPU_REQUEST, SIDECAR, Plan, plan
from tools.deploy.sources import Resource, RunApp, move_servers, run_common

PUBLIC_APP = "gateway"
PUBLIC_PORT = 80
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def metrics_port(app: RunApp) -> int | None:
    """The port the app serves its Prometheus metrics on (dapr.yaml's METRICS_PORT), if any."""
    port = app.env.get("METRICS_PORT")
    return int(port) if port else None


def scrape_annotations(app: RunApp) -> dict[str, str]:
    """Where Prometheus' usual pod discovery finds the app's metrics (daprd's are on its own `<app>-dapr` Service)."""
    port = metrics_port(app)
    if port is None:
        return {}
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}


def labels(app_id: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app_id, "app.kubernetes.io/part-of": "junction"}


def token_secrets(app_id: str) -> tuple[str, str]:
    """The Secrets (key `token`) of the app's DAPR_API_TOKEN (app -> sidecar) and APP_API_TOKEN (sidecar -> app)."""
    return f"{app_id}-dapr-api-token", f"{app_id}-app-api-token"


def dapr_annotations(app: RunApp) -> dict[str, str]:
    """What the Dapr injector reads: dapr.yaml's settings for this app, then the cluster's own."""
    common = run_common()
    dapr_token, app_token = token_secrets(app.app_id)
    return {
        "dapr.io/enabled": "true",
        "dapr.io/app-id": app.app_id,
        "dapr.io/app-port": str(app.port),
        "dapr.io/app-protocol": app.protocol,
        "dapr.io/config": app.app_id,
        "dapr.io/enable-api-logging": "false",
        "dapr.io/log-level": str(common.get("logLevel", "info")),
        "dapr.io/enable-app-health-check": str(bool(common.get("enableAppHealthCheck"))).lower(),
        "dapr.io/app-health-check-path": str(common["appHealthCheckPath"]),
        "dapr.io/app-health-probe-interval": str(common["appHealthProbeInterval"]),
        "dapr.io/app-health-threshold": str(common["appHealthThreshold"]),
        "dapr.io/api-token-secret": dapr_token,
        "dapr.io/app-token-secret": app_token,
        # Secrets come only through the app's own secret-store components, which config/ scopes.
        "dapr.io/disable-builtin-k8s-secret-store": "true",
        **SIDECAR,
        **scrape_annotations(app),
    }


def _secret(name: str, key: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": name, "key": key}}


def _env(app: RunApp, chosen: Plan) -> list[dict[str, Any]]:
    dapr_token, app_token = token_secrets(app.app_id)
    values = {"APP_ID": app.app_id, "APP_PORT": str(app.port), "JUNCTION_ENV": "production", **chosen.env}
    if (port := metrics_port(app)) is not None:  # a scraper outside the pod reads it on the pod's address
        values |= {"METRICS_PORT": str(port), "METRICS_HOST": "0.0.0.0"}
    if endpoint := app.env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):  # the app's spans go to the `jaeger` Service
        values["OTEL_EXPORTER_OTLP_ENDPOINT"] = move_servers(endpoint, trace_hosts())
    if app.app_id == PUBLIC_APP:  # the trace view reads Jaeger's query API through the same Service
        values["TRACE_QUERY_URL"] = trace_query_url()
    secrets = {"DAPR_API_TOKEN": (dapr_token, "token"), "APP_API_TOKEN": (app_token, "token"), **chosen.secret_env}
    return [{"name": k, "value": v} for k, v in values.items()] + [
        {"name": k, "valueFrom": _secret(*ref)} for k, ref in secrets.items()
    ]


def probes(app: RunApp) -> dict[str, Any]:
    if app.app_id == PUBLIC_APP:
        check: dict[str, Any] = {"httpGet": {"path": "/healthz", "port": app.port}}
    else:
        check = {"exec": {"command": ["python", "-m", "tools.deploy.probe", app.protocol, str(app.port)]}}
    # The app serves only once its lifespan ran: its sidecar answered and its migrations are done.
    return {
        "startupProbe": {**check, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 30},
        "livenessProbe": {**check, "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 3},
        "readinessProbe": {**check, "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 2},
    }


def container(app: RunApp, image: str) -> dict[str, Any]:
    chosen = plan(app.app_id)
    ports = [{"name": "http", "containerPort": app.port}] if app.app_id == PUBLIC_APP else []
    if (port := metrics_port(app)) is not None:
        ports.append({"name": "metrics", "containerPort": port})
    return {
        "name": "app",
        "image": image,
        "command": ["python", "-m", f"apps.{app.app_id}"],
        "env": _env(app, chosen),
        **({"ports": ports} if ports else {}),
        "resources": {
            "requests": {"cpu": APP_CPU_REQUEST, "memory": chosen.memory_request},
            "limits": {"memory": chosen.memory_limit},
        },
        **probes(app),
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - the container's own
    }


def deployment(app: RunApp, image: str) -> Resource:
    chosen = plan(app.app_id)
    spec: dict[str, Any] = {} if chosen.scales else {"replicas": chosen.min_replicas}  # an HPA owns the count
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app.app_id, "namespace": NAMESPACE, "labels": labels(app.app_id)},
        "spec": {
            **spec,
            "selector": {"matchLabels": {"app.kubernetes.io/name": app.app_id}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(app.app_id), "annotations": dapr_annotations(app)},
                "spec": {
                    "serviceAccountName": app.app_id,
                    "securityContext": POD_SECURITY,
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container(app, image)],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def public_service(app: RunApp) -> Resource:
    """The gateway's ClusterIP Service; an Ingress or load balancer of the cluster's choosing goes in front."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app.app_id, "namespace": NAMESPACE, "labels": labels(app.app_id)},
        "spec": {
            "selector": {"app.kubernetes.io/name": app.app_id},
            "ports": [{"name": "http", "port": PUBLIC_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }
