"""catalog's internal HTTP edge, reached only through its sidecar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.catalog import service
from apps.catalog.deps import Services
from apps.catalog.schemas import ProductCreate, ProductList, ProductRead, ReservationCreate, ReservationRead
from servicekit import ok
from servicekit.idempotency import IdempotencyKey

router = APIRouter(tags=["catalog"])


@router.post("/products", status_code=201)
async def create_product(body: ProductCreate, services: Services, key: IdempotencyKey) -> JSONResponse:
    """Put a product on sale (the gateway lets only admins through); a repeated key answers its product."""
    product = await service.create_product(body.command(key), catalog=services.catalog)
    return ok(ProductRead.of(product).model_dump(by_alias=True), status=201)


@router.get("/products")
async def list_products(
    services: Services,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """One page of products in the order they were created."""
    page = await service.list_products(limit, offset, catalog=services.catalog)
    listed = ProductList(items=[ProductRead.of(p) for p in page.items], total=page.total)
    return ok(listed.model_dump(by_alias=True))


@router.get("/products/{product_id}")
async def get_product(product_id: str, services: Services) -> JSONResponse:
    product = await service.get_product(product_id, catalog=services.catalog)
    return ok(ProductRead.of(product).model_dump(by_alias=True))


@router.post("/reservations", status_code=201)
async def reserve(body: ReservationCreate, services: Services) -> JSONResponse:
    """Reserve an order's stock, all lines or none; a repeat gets its reservation (200), a released id a 409."""
    reserved = await service.reserve_stock(body.command(), catalog=services.catalog)
    return ok(ReservationRead.of(reserved.reservation).model_dump(by_alias=True), 201 if reserved.created else 200)


@router.get("/reservations/{order_id}")
async def get_reservation(order_id: str, services: Services) -> JSONResponse:
    reservation = await service.get_reservation(order_id, catalog=services.catalog)
    return ok(ReservationRead.of(reservation).model_dump(by_alias=True))


@router.post("/reservations/{order_id}/commit")
async def commit(order_id: str, services: Services) -> JSONResponse:
    """The order was paid: the reserved units are sold."""
    reservation = await service.commit_reservation(order_id, catalog=services.catalog)
    return ok(ReservationRead.of(reservation).model_dump(by_alias=True))


@router.post("/reservations/{order_id}/release")
async def release(order_id: str, services: Services) -> JSONResponse:
    """The order failed, was cancelled or expired: its units go back on sale; an unknown id is marked released."""
    reservation = await service.release_reservation(order_id, catalog=services.catalog)
    return ok(ReservationRead.of(reservation).model_dump(by_alias=True))
