"""Products: anyone reads (through the gateway's cache, apps.gateway.cache), admins create."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.gateway.api.cached import CacheControl, answer, cached_responses, no_cache
from apps.gateway.api.params import ADMIN, Limit, Offset, ResourceId
from apps.gateway.cache import product_key, product_list_key, read_public
from apps.gateway.deps import AdminOnly, PeersDep, Services
from apps.gateway.peers import segment
from apps.gateway.schemas import Envelope, ProductCreate, ProductList, ProductRead, link, refusals
from servicekit import ok
from servicekit.idempotency import IDEMPOTENCY_KEY_HEADER, RequestIdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["products"])
CREATED_PRODUCT = "$response.body#/data/id"
PRODUCT_LINKS = {
    "GetProduct": link(
        "GET", "/api/v1/products/{product_id}", "The product.", parameters={"product_id": CREATED_PRODUCT}
    ),
    "OrderProduct": link(
        "POST",
        "/api/v1/orders",
        "Buy one unit of it.",
        requestBody={"items": [{"productId": CREATED_PRODUCT, "quantity": 1}], "paymentMethod": {"token": "tok_ok"}},
    ),
}


CACHED = cached_responses("catalog")


@router.get("/products", response_model=Envelope[ProductList], responses={**refusals(422), **CACHED})
async def list_products(
    services: Services, cache_control: CacheControl = None, limit: Limit = 20, offset: Offset = 0
) -> JSONResponse:
    peers = services.peers

    async def fetch() -> Any:
        return await peers.call(peers.apps.catalog, "GET", "/products", params={"limit": limit, "offset": offset})

    key = product_list_key(limit, offset)
    return answer(await read_public(key, fetch, reads=services.reads, bypass=no_cache(cache_control)))


@router.get("/products/{product_id}", response_model=Envelope[ProductRead], responses={**refusals(404, 422), **CACHED})
async def get_product(product_id: ResourceId, services: Services, cache_control: CacheControl = None) -> JSONResponse:
    peers = services.peers

    async def fetch() -> Any:
        return await peers.call(peers.apps.catalog, "GET", f"/products/{segment(product_id)}")

    key = product_key(product_id)
    return answer(await read_public(key, fetch, reads=services.reads, bypass=no_cache(cache_control)))


@router.post(
    "/products",
    status_code=201,
    response_model=Envelope[ProductRead],
    responses={**refusals(400, 401, 403, 409, 413, 422), 201: {"links": PRODUCT_LINKS}},
    dependencies=[ADMIN],
)
async def create_product(
    body: ProductCreate, _: AdminOnly, peers: PeersDep, key: RequestIdempotencyKey
) -> JSONResponse:
    """Add a product; the same Idempotency-Key and body answer the same product."""
    headers = {IDEMPOTENCY_KEY_HEADER: key}
    created = await peers.call(peers.apps.catalog, "POST", "/products", json=body.model_dump(), headers=headers)
    return ok(created, status=201)
