"""What analytics' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.analytics.storage import SummaryStore


@dataclass(frozen=True)
class AnalyticsServices:
    summaries: SummaryStore


def _services(request: Request) -> AnalyticsServices:
    services: AnalyticsServices = request.app.state.services
    return services


Services = Annotated[AnalyticsServices, Depends(_services)]
