"""What a cluster needs to know per app that dapr.yaml does not say: replicas, resources, settings from Secrets.

Only apps whose every write is guarded across processes, and that run nothing on a timer, scale out
(docs/scaling.md): the gateway keeps no state of its own (rate-limit counters live in Redis, its read
cache in the shared state store, written under ETags), and
notifications and analytics write each event's effect and its applied-marker in one state transaction
under an ETag. The others stay at one replica until what they run in the background is shown safe
beside a second copy: outbox relays (identity, catalog, orders, payments), migrations at start
(identity, orders), the order-expiry cron (orders' sidecar fires it per replica) and the workflow host
and its start-up sweep (admin).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SecretRef = tuple[str, str]
"""(Kubernetes Secret, key)."""
IMAGE = "junction"
"""The image `docker build -t junction:<version> .` makes (Dockerfile); an overlay of yours renames it."""


@dataclass(frozen=True)
class Plan:
    min_replicas: int = 1
    max_replicas: int | None = None
    """Set for the apps that scale out: a HorizontalPodAutoscaler and a PodDisruptionBudget then exist."""
    memory_request: str = "128Mi"
    memory_limit: str = "256Mi"
    env: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, SecretRef] = field(default_factory=dict)

    @property
    def scales(self) -> bool:
        return self.max_replicas is not None


PLANS = {
    "gateway": Plan(
        min_replicas=2,
        max_replicas=10,
        # The public edge listens on the pod's address (its Service sends clients there); the rest on loopback.
        env={"PUBLIC_HOST": "0.0.0.0"},
        secret_env={"RATE_LIMIT_STORAGE_URL": ("gateway-rate-limits", "url")},
    ),
    "identity": Plan(
        # Argon2id hashes take 19 MiB each; 168 MiB resident after `make bench` (docs/benchmarks.md).
        memory_request="192Mi",
        memory_limit="384Mi",
        secret_env={
            "DATABASE_URL": ("identity-database", "url"),
            "JUNCTION_ADMIN_EMAIL": ("identity-admin", "email"),
            "JUNCTION_ADMIN_PASSWORD": ("identity-admin", "password"),
        },
    ),
    "orders": Plan(secret_env={"DATABASE_URL": ("orders-database", "url")}),
    "admin": Plan(secret_env={"TENANT_DATABASE_URL_TEMPLATE": ("tenant-databases", "template")}),
    "notifications": Plan(min_replicas=2, max_replicas=6),
    "analytics": Plan(min_replicas=2, max_replicas=6),
}
APP_CPU_REQUEST = "50m"
SIDECAR = {
    # daprd holds 135-160 MiB resident under `make bench` (docs/benchmarks.md): every component is built in.
    "dapr.io/sidecar-cpu-request": "50m",
    "dapr.io/sidecar-cpu-limit": "1",
    "dapr.io/sidecar-memory-request": "160Mi",
    "dapr.io/sidecar-memory-limit": "320Mi",
}
CPU_TARGET_PERCENT = 70
"""HPAs scale on the app container's CPU against its request (the sidecar's is left out)."""


def plan(app_id: str) -> Plan:
    return PLANS.get(app_id, Plan())
