"""admin's settings: dead-letter intake, and where tenant databases live and who provisions them."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator

from apps.admin.tenants.storage.databases import check_url_template
from servicekit import ServiceSettings
from servicekit.provisioning import PROVISIONING_SECRETSTORE


class AdminSettings(ServiceSettings):
    app_id: str = Field("admin", validation_alias=AliasChoices("APP_ID"))
    # Dead letters arrive as whole CloudEvents; a 413 would make Dapr redeliver one forever,
    # so admin accepts bodies well above the 64 KiB other apps allow.
    max_body_bytes: int = Field(1024 * 1024, gt=0)
    # Provisioning may take 2 x 30 s + 0.2 s (resiliency.yaml): wait for it, never delete a
    # database that provisioner is still migrating.
    sidecar_timeout_seconds: float = Field(65.0, gt=0)
    provisioner_app_id: str = "provisioner"
    provisioning_secretstore_name: str = PROVISIONING_SECRETSTORE
    tenant_database_url_template: str = "sqlite+aiosqlite:///.data/tenants/{subdomain}.db"
    """Where a tenant's database goes; for PostgreSQL: `postgresql+asyncpg://user:pw@host:5432/tenant_{subdomain}`."""
    provisioning_wait_seconds: float = Field(60.0, gt=0)
    """How long POST /tenants waits for the provisioning workflow before answering the tenant as it stands
    (PROVISIONING; the workflow goes on): below the gateway's one attempt at admin (`onboarding`, 75 s)."""

    workflow_call_timeout_seconds: float = Field(5.0, gt=0)
    """How long one call to the sidecar's workflow API (a run's state, scheduling it) may take before it is a
    503 WORKFLOW_UNAVAILABLE; the wait for a run is bounded by `provisioning_wait_seconds` instead."""
    provisioning_sweep_seconds: float = Field(15.0, gt=0)
    """How often admin schedules the run of a PROVISIONING tenant that has none (`resume_unscheduled`), for a
    tenant recorded but left unscheduled more than twice as long ago (the request that recorded it was cut)."""

    @field_validator("tenant_database_url_template")
    @classmethod
    def _template_names_one_database_per_subdomain(cls, template: str) -> str:
        check_url_template(template)
        return template
