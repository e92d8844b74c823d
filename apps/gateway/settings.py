"""gateway's settings: the apps behind it, its rate-limit tiers and where their counters live."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings

HERE = Path(__file__).parent


class GatewaySettings(ServiceSettings):
    app_id: str = Field("gateway", validation_alias=AliasChoices("APP_ID"))
    public_host: str = "127.0.0.1"
    # The longest call behind the edge is creating a tenant: 2 x 75 s + 0.2 s (resiliency.yaml).
    sidecar_timeout_seconds: float = Field(155.0, gt=0)
    health_apps: list[str] = [
        "identity",
        "catalog",
        "orders",
        "payments",
        "notifications",
        "analytics",
        "admin",
        "provisioner",
    ]
    rate_limits_file: Path = HERE / "ratelimits.yaml"
    rate_limit_storage_url: str = "memory://"
