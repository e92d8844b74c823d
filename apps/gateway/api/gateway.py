"""The gateway's view of the services it routes to (apps.gateway.registry): counts for anyone, details for admins."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.gateway.api.params import ADMIN
from apps.gateway.deps import AdminOnly, RegistryDep
from apps.gateway.registry import ServiceRecord
from apps.gateway.schemas import (
    BreakerRead,
    Envelope,
    GatewayStatusRead,
    RegisteredServiceList,
    RegisteredServiceRead,
    refusals,
)
from servicekit import ok
from servicekit.clock import utc_text

router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


def _read(record: ServiceRecord) -> RegisteredServiceRead:
    return RegisteredServiceRead(
        name=record.name,
        route_prefixes=list(record.prefixes),
        state=record.state,
        health=record.health,
        last_seen=_text(record.last_seen),
        last_checked=_text(record.last_checked),
        consecutive_failures=record.failures,
        last_error=record.last_error,
        breaker=BreakerRead(state=record.breaker, changed_at=_text(record.breaker_changed)),
    )


@router.get("/status", response_model=Envelope[GatewayStatusRead], responses=refusals(), summary="Services up and down")
async def status(registry: RegistryDep) -> JSONResponse:
    """Say, for anyone, how many of the services behind the gateway it sees up and down; nothing about which."""
    down = sum(record.state == "down" for record in registry.records())
    up = len(registry.records()) - down
    read = GatewayStatusRead(status="degraded" if down else "ok", services_up=up, services_down=down)
    return ok(read.model_dump(by_alias=True))


@router.get(
    "/services",
    response_model=Envelope[RegisteredServiceList],
    responses=refusals(401, 403),
    dependencies=[ADMIN],
    summary="Every service routed to, with its routes, health and breaker (admin)",
)
async def services(_: AdminOnly, registry: RegistryDep) -> JSONResponse:
    """For admins: each service the gateway routes to, its route prefixes, and what its last probe and calls saw.

    The registry refreshes every REGISTRY_INTERVAL_SECONDS; a service marked `down` gets a 503 at once.
    """
    listed = RegisteredServiceList(items=[_read(record) for record in registry.records()])
    return ok(listed.model_dump(by_alias=True))
