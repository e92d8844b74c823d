"""Tenant (school) onboarding, for admins; admin orchestrates, provisioner migrates."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.gateway.api.params import ADMIN, Limit, Offset, ResourceId
from apps.gateway.deps import AdminOnly, PeersDep
from apps.gateway.peers import segment
from apps.gateway.schemas import Envelope, TenantCreate, TenantList, TenantRead, link, refusals
from servicekit import ok
from servicekit.idempotency import IDEMPOTENCY_KEY_HEADER, RequestIdempotencyKey

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"], dependencies=[ADMIN])
CREATED = {"tenant_id": "$response.body#/data/id"}
TENANT_LINKS = {
    "GetTenant": link("GET", "/api/v1/tenants/{tenant_id}", "The tenant.", parameters=CREATED),
    "RetryTenant": link("POST", "/api/v1/tenants/{tenant_id}/retry", "Provision it again.", parameters=CREATED),
}


@router.post(
    "",
    status_code=201,
    response_model=Envelope[TenantRead],
    responses={**refusals(400, 401, 403, 409, 413, 422, 424), 201: {"links": TENANT_LINKS}},
)
async def create_tenant(
    body: TenantCreate, claims: AdminOnly, peers: PeersDep, key: RequestIdempotencyKey
) -> JSONResponse:
    """Create a school and its database; answers once the database is ready (or why it is not).

    The same Idempotency-Key answers the tenant the first request recorded, as it stands.
    """
    tenant = {**body.model_dump(by_alias=True), "requestedBy": claims.subject}
    headers = {IDEMPOTENCY_KEY_HEADER: key}
    return ok(await peers.call(peers.apps.admin, "POST", "/tenants", json=tenant, headers=headers), status=201)


@router.get("", response_model=Envelope[TenantList], responses=refusals(401, 403, 422))
async def list_tenants(_: AdminOnly, peers: PeersDep, limit: Limit = 20, offset: Offset = 0) -> JSONResponse:
    return ok(await peers.call(peers.apps.admin, "GET", "/tenants", params={"limit": limit, "offset": offset}))


@router.get("/{tenant_id}", response_model=Envelope[TenantRead], responses=refusals(401, 403, 404, 422))
async def get_tenant(tenant_id: ResourceId, _: AdminOnly, peers: PeersDep) -> JSONResponse:
    return ok(await peers.call(peers.apps.admin, "GET", f"/tenants/{segment(tenant_id)}"))


@router.post(
    "/{tenant_id}/retry", response_model=Envelope[TenantRead], responses=refusals(401, 403, 404, 409, 422, 424)
)
async def retry_tenant(tenant_id: ResourceId, claims: AdminOnly, peers: PeersDep) -> JSONResponse:
    """Run a failed (or interrupted) provisioning again."""
    body = {"requestedBy": claims.subject}
    return ok(await peers.call(peers.apps.admin, "POST", f"/tenants/{segment(tenant_id)}/retry", json=body))
