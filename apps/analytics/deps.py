"""What analytics' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.analytics.storage import SummaryRepository
from servicekit.deps import services_of


@dataclass(frozen=True)
class AnalyticsServices:
    summaries: SummaryRepository


Services = Annotated[AnalyticsServices, Depends(services_of(AnalyticsServices))]
