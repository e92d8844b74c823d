"""Public health: whether each service is up, for anyone; sidecars, checks and components, for admins."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from apps.gateway.api.params import ADMIN
from apps.gateway.deps import AdminOnly, PeersDep, Services
from apps.gateway.errors import public_error
from apps.gateway.schemas import Envelope, refusals
from servicekit import JunctionError, ok

router = APIRouter(prefix="/api/v1", tags=["health"])
log = logging.getLogger("gateway.health")
Up = Literal["ok", "unavailable"]


class ServiceUp(BaseModel):
    status: Up


class HealthRead(BaseModel):
    """For anyone: each service up or down, and `degraded` overall when one is down."""

    status: Literal["ok", "degraded"]
    service: Literal["gateway"]
    services: dict[str, ServiceUp]


class HealthDetailedRead(BaseModel):
    """For admins: the gateway's sidecar components, and each service's readiness report or why it is down."""

    status: Literal["ok", "degraded"]
    gateway: dict[str, Any]
    services: dict[str, dict[str, Any]]


def _overall(statuses: list[str]) -> Literal["ok", "degraded"]:
    return "ok" if all(status == "ok" for status in statuses) else "degraded"


@router.get("/health", response_model=Envelope[HealthRead], responses=refusals(), summary="Whether each service is up")
async def health(peers: PeersDep) -> JSONResponse:
    """Say, for anyone, whether each service behind the gateway is up (`ok`) or down (`unavailable`).

    Nothing else: no component, version, check or error. The answer may be up to a second old
    (one round of readiness calls serves every caller meanwhile). `/health/detailed` has the rest.
    """
    services = {name: {"status": report["status"]} for name, report in (await peers.recent_readiness()).items()}
    overall = _overall([s["status"] for s in services.values()])
    return ok({"status": overall, "service": "gateway", "services": services})


@router.get(
    "/health/detailed",
    response_model=Envelope[HealthDetailedRead],
    responses=refusals(401, 403),
    dependencies=[ADMIN],
    summary="Every service's checks and components (admin)",
)
async def health_detailed(_: AdminOnly, peers: PeersDep, gateway_services: Services) -> JSONResponse:
    """For admins: the gateway's sidecar components and each service's readiness checks, asked now.

    Never fails as a whole: a service that does not answer is `unavailable` with the code of why.
    """
    services = await peers.readiness()
    listed = gateway_services.components
    gateway: dict[str, Any]
    try:
        gateway = {"status": "ok", "components": await listed() if listed else []}
    except Exception as exc:  # the report must still answer when the gateway's own sidecar is gone
        log.warning("the gateway's sidecar did not list its components", exc_info=exc)
        public = public_error(exc if isinstance(exc, JunctionError) else JunctionError("The sidecar failed."))
        gateway = {"status": "unavailable", "error": {"code": public.code, "message": public.message}}
    overall = _overall([s["status"] for s in services.values()] + [gateway["status"]])
    return ok({"status": overall, "gateway": gateway, "services": services})
