"""analytics' settings: only its app id differs from the shared defaults."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    app_id: str = Field("analytics", validation_alias=AliasChoices("APP_ID"))
