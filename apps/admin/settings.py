"""admin's settings."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings


class AdminSettings(ServiceSettings):
    app_id: str = Field("admin", validation_alias=AliasChoices("APP_ID"))
    # Dead letters arrive as whole CloudEvents; a 413 would make Dapr redeliver one forever,
    # so admin accepts bodies well above the 64 KiB other apps allow.
    max_body_bytes: int = Field(1024 * 1024, gt=0)
