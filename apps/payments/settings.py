"""payments' settings: only its app id differs from the shared defaults."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings


class PaymentsSettings(ServiceSettings):
    app_id: str = Field("payments", validation_alias=AliasChoices("APP_ID"))
    outbox_interval_seconds: float = Field(2.0, gt=0)
