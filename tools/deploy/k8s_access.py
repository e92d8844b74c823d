"""Who each app is in the cluster and what it may read: namespace, ServiceAccounts, secret-reading Roles,
and the HorizontalPodAutoscalers and PodDisruptionBudgets of the apps that scale out.

A sidecar reads its app's secrets with the pod's ServiceAccount (secretstores.kubernetes), so each app
has its own, and may `get` exactly the Secrets its Configuration lets it read (config/<app-id>.yaml,
spec.secrets.scopes): the Kubernetes twin of the Configuration's allow-list.
"""

from __future__ import annotations

from tools.deploy.k8s_dapr import NAMESPACE, configuration
from tools.deploy.k8s_plan import CPU_TARGET_PERCENT, plan
from tools.deploy.k8s_workloads import labels
from tools.deploy.sources import Resource, RunApp


def namespace() -> Resource:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def service_account(app: RunApp) -> Resource:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": app.app_id, "namespace": NAMESPACE, "labels": labels(app.app_id)},
    }


def readable_secrets(app: RunApp) -> list[str]:
    """The secrets the app's Configuration allows it, in any of its stores."""
    scopes = configuration(app)["spec"].get("secrets", {}).get("scopes") or []
    return sorted({str(name) for scope in scopes for name in scope.get("allowedSecrets") or []})


def secret_readers(apps: list[RunApp]) -> list[Resource]:
    """A Role per secret that some app may read, bound to exactly those apps' ServiceAccounts."""
    readers: dict[str, list[str]] = {}
    for app in apps:
        for secret in readable_secrets(app):
            readers.setdefault(secret, []).append(app.app_id)
    resources: list[Resource] = []
    for secret, app_ids in sorted(readers.items()):
        name = f"read-{secret}"
        meta = {"name": name, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "junction"}}
        resources.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": meta,
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [secret], "verbs": ["get"]}],
            }
        )
        resources.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [
                    {"kind": "ServiceAccount", "name": app_id, "namespace": NAMESPACE} for app_id in sorted(app_ids)
                ],
            }
        )
    return resources


def autoscaling(app: RunApp) -> list[Resource]:
    """An HPA on the app container's CPU and a PDB keeping one pod through voluntary disruptions."""
    chosen = plan(app.app_id)
    if not chosen.scales:
        return []
    meta = {"name": app.app_id, "namespace": NAMESPACE, "labels": labels(app.app_id)}
    target = {"type": "Utilization", "averageUtilization": CPU_TARGET_PERCENT}
    return [
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app.app_id},
                "minReplicas": chosen.min_replicas,
                "maxReplicas": chosen.max_replicas,
                "metrics": [
                    {
                        "type": "ContainerResource",
                        "containerResource": {"name": "cpu", "container": "app", "target": target},
                    }
                ],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app.app_id}}},
        },
    ]
