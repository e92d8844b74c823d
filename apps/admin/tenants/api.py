"""admin's tenant HTTP edge, reached only through its sidecar; the gateway names the requesting admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.admin.deps import Services
from apps.admin.tenants import service
from apps.admin.tenants.domain import CreateTenant, RetryTenant
from apps.admin.tenants.schemas import TenantCreate, TenantList, TenantRead, TenantRetry
from servicekit import ok
from servicekit.idempotency import IdempotencyKey

router = APIRouter(tags=["tenants"])


@router.post("/tenants", status_code=201)
async def create_tenant(body: TenantCreate, services: Services, key: IdempotencyKey) -> JSONResponse:
    """Create a school and provision its database; answers once it is ACTIVE (or 424 PROVISIONING_FAILED).

    A repeat with the same Idempotency-Key answers the tenant the first attempt recorded, as it stands.
    """
    command = CreateTenant(body.name, body.subdomain, body.admin_email, body.admin_password, body.requested_by, key)
    tenant = await service.create_tenant(command, onboarding=services.onboarding)
    return ok(TenantRead.of(tenant).model_dump(by_alias=True), status=201)


@router.post("/tenants/{tenant_id}/retry")
async def retry_tenant(tenant_id: str, body: TenantRetry, services: Services) -> JSONResponse:
    """Provision a failed tenant again."""
    tenant = await service.retry_tenant(RetryTenant(tenant_id, body.requested_by), onboarding=services.onboarding)
    return ok(TenantRead.of(tenant).model_dump(by_alias=True))


@router.get("/tenants")
async def list_tenants(
    services: Services,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """List tenants, newest first."""
    tenants, total = await service.list_tenants(limit=limit, offset=offset, tenants=services.onboarding.tenants)
    page = TenantList(items=[TenantRead.of(t) for t in tenants], total=total)
    return ok(page.model_dump(by_alias=True))


@router.get("/tenants/{tenant_id}")
async def get_tenant(tenant_id: str, services: Services) -> JSONResponse:
    tenant = await service.get_tenant(tenant_id, tenants=services.onboarding.tenants)
    return ok(TenantRead.of(tenant).model_dump(by_alias=True))
