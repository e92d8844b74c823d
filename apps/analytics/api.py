"""analytics' internal HTTP edge, reached only through its sidecar; the gateway admits admins only."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.analytics import service
from apps.analytics.deps import Services
from apps.analytics.schemas import SummaryRead
from servicekit import ok

router = APIRouter(tags=["analytics"])


@router.get("/reports/summary")
async def summary(services: Services) -> JSONResponse:
    """Orders by status, revenue, registrations and per-topic event counts."""
    current = await service.current_summary(summaries=services.summaries)
    return ok(SummaryRead.of(current).model_dump(by_alias=True))
