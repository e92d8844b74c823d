"""Admin views: the dashboard (degrades per section) and the dead letters."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.gateway.api.params import ADMIN, Limit, Offset, ResourceId
from apps.gateway.deps import AdminOnly, PeersDep
from apps.gateway.peers import sections, segment
from apps.gateway.schemas import Dashboard, DeadLetterList, DeadLetterRead, Envelope, ReplayRequest, refusals
from servicekit import ok

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[ADMIN])


@router.get("/dashboard", response_model=Envelope[Dashboard], responses=refusals(401, 403))
async def dashboard(_: AdminOnly, peers: PeersDep) -> JSONResponse:
    """Everything an admin looks at first, fetched in parallel; a dead service only blanks its section."""
    apps = peers.apps
    return ok(
        await sections(
            {
                "products": peers.call(apps.catalog, "GET", "/products", params={"limit": 5}),
                "orders": peers.call(apps.orders, "GET", "/orders", params={"limit": 5}),
                "reports": peers.call(apps.analytics, "GET", "/reports/summary"),
                "deadLetters": peers.call(apps.admin, "GET", "/dead-letters", params={"limit": 5}),
            }
        )
    )


@router.get(
    "/dead-letters",
    response_model=Envelope[DeadLetterList],
    responses=refusals(401, 403, 422),
)
async def dead_letters(_: AdminOnly, peers: PeersDep, limit: Limit = 50, offset: Offset = 0) -> JSONResponse:
    params = {"limit": limit, "offset": offset}
    return ok(await peers.call(peers.apps.admin, "GET", "/dead-letters", params=params))


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    response_model=Envelope[DeadLetterRead],
    responses=refusals(400, 401, 403, 404, 409, 413, 422),
)
async def replay(
    dead_letter_id: ResourceId, _: AdminOnly, peers: PeersDep, body: ReplayRequest | None = None
) -> JSONResponse:
    """Send a dead letter back to its topic, optionally with a corrected payload."""
    fix = body.model_dump() if body else None
    return ok(await peers.call(peers.apps.admin, "POST", f"/dead-letters/{segment(dead_letter_id)}/replay", json=fix))
