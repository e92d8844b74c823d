"""Typed settings every app extends; values come from the environment (the run file's `env:`)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Where the sidecar is, which components to use, and how strict to be."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    app_id: str = Field(validation_alias=AliasChoices("APP_ID"))
    environment: Literal["development", "production"] = Field(
        "development", validation_alias=AliasChoices("JUNCTION_ENV")
    )
    dapr_http_port: int = 3500
    dapr_grpc_port: int = 50001
    """The sidecar's gRPC API, where the SDK client goes (pub/sub, state, secrets); dapr run and the harness set it."""
    dapr_api_token: SecretStr | None = None
    app_api_token: SecretStr | None = None
    pubsub_name: str = "pubsub"
    statestore_name: str = "statestore"
    secretstore_name: str = "secretstore"
    sidecar_timeout_seconds: float = Field(8.0, gt=0)
    """How long the app waits for its sidecar: a little longer than the longest call it makes
    (a leaf call's whole retry budget is 6.5 s, components/common/resiliency.yaml), so the sidecar's
    policy decides and the app never gives up on work that is still allowed to run."""
    sidecar_ready_timeout_seconds: float = Field(60.0, gt=0)
    max_body_bytes: int = Field(64 * 1024, gt=0)
    log_level: str = "INFO"
    metrics_port: int | None = Field(None, ge=1, le=65535)
    """Where the app serves its Prometheus metrics (servicekit.metrics); unset, it serves none. Never the app's
    own port: that one answers the sidecar alone (the gateway's is the public edge)."""
    otel_exporter_otlp_endpoint: str | None = None
    """Where the app sends its spans (OTLP over gRPC, servicekit.tracing); unset, it records none."""
    metrics_host: str = "127.0.0.1"
    """The metrics server's address: loopback, but in a Kubernetes pod, where the scraper is outside it."""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _refuse_open_apps_in_production(self) -> ServiceSettings:
        """In production each app has its own pair of tokens (docs/security.md), from a secret."""
        if self.is_production and self.app_api_token is None:
            raise ValueError("APP_API_TOKEN must be set when JUNCTION_ENV=production")
        if self.is_production and self.dapr_api_token is None:
            raise ValueError("DAPR_API_TOKEN must be set when JUNCTION_ENV=production")
        return self
