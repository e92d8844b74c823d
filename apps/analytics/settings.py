"""analytics' settings: its app id, and how many shards the summary is split over."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from apps.analytics.storage import SHARDS
from servicekit import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    app_id: str = Field("analytics", validation_alias=AliasChoices("APP_ID"))
    # Fixed once events were counted: another count moves orders to other shards (a late redelivery
    # may count twice, a cancel may miss its create) and a smaller one stops reading the shards above it.
    summary_shards: int = Field(SHARDS, ge=1, le=256)
