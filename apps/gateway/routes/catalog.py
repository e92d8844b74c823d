"""Products: anyone reads, admins create."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.gateway.deps import AdminOnly, PeersDep
from apps.gateway.peers import segment
from apps.gateway.routes.params import ResourceId
from apps.gateway.schemas import ProductCreate
from servicekit import ok
from servicekit.idempotency import IDEMPOTENCY_KEY_HEADER, RequestIdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["products"])
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/products")
async def list_products(peers: PeersDep, limit: Limit = 20, offset: Offset = 0) -> JSONResponse:
    params = {"limit": limit, "offset": offset}
    return ok(await peers.call(peers.apps.catalog, "GET", "/products", params=params))


@router.get("/products/{product_id}")
async def get_product(product_id: ResourceId, peers: PeersDep) -> JSONResponse:
    return ok(await peers.call(peers.apps.catalog, "GET", f"/products/{segment(product_id)}"))


@router.post("/products", status_code=201)
async def create_product(
    body: ProductCreate, _: AdminOnly, peers: PeersDep, key: RequestIdempotencyKey
) -> JSONResponse:
    """Add a product; the same Idempotency-Key and body answer the same product."""
    headers = {IDEMPOTENCY_KEY_HEADER: key}
    created = await peers.call(peers.apps.catalog, "POST", "/products", json=body.model_dump(), headers=headers)
    return ok(created, status=201)
