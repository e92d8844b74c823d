"""provisioner's internal HTTP edge, reached only through its sidecar and only by admin."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.provisioner import service
from apps.provisioner.deps import AdminOnly, Services
from apps.provisioner.domain import InitDatabase
from apps.provisioner.schemas import InitDatabaseRead, InitDatabaseRequest
from servicekit import ok

router = APIRouter(tags=["provisioner"])


@router.post("/init-database", dependencies=[AdminOnly])
async def init_database(body: InitDatabaseRequest, services: Services) -> JSONResponse:
    """Migrate an existing tenant database to the school schema; report the tables it holds."""
    migrated = await service.init_database(InitDatabase(body.database_url), migrator=services.migrator)
    return ok(InitDatabaseRead.of(migrated).model_dump(by_alias=True))
