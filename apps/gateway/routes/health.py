"""Public health: the gateway alone, or every service with its sidecar and components."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from apps.gateway.deps import PeersDep
from servicekit import ok

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health")
async def health() -> JSONResponse:
    return ok({"status": "ok", "service": "gateway"})


@router.get("/health/detailed")
async def health_detailed(request: Request, peers: PeersDep) -> JSONResponse:
    """Report the gateway's sidecar and each service's readiness; never fails as a whole."""
    services = await peers.readiness()
    listed = getattr(request.app.state, "components", None)
    try:
        components = await listed() if listed else []
        gateway = {"status": "ok", "components": components}
    except Exception as exc:  # the report must still answer when the gateway's own sidecar is gone
        gateway = {"status": "unavailable", "error": str(exc)}
    overall = "ok" if all(s["status"] == "ok" for s in services.values()) and gateway["status"] == "ok" else "degraded"
    return ok({"status": overall, "gateway": gateway, "services": services})
