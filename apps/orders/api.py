"""orders' internal HTTP edge (through its sidecar) and the expiry tick of the cron binding."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from apps.orders import service
from apps.orders.deps import Services
from apps.orders.domain import CancelOrder, PlaceOrder, RequestedLine, check_idempotency_key
from apps.orders.schemas import OrderCancel, OrderCreate, OrderRead
from servicekit import ok
from servicekit.middleware import routine

router = APIRouter(tags=["orders"])
EXPIRY_BINDING = "order-expiry"
OFFSET_MAX = 2**63 - 1
"""SQL's OFFSET is a 64-bit integer: beyond it the driver fails (a 500) instead of answering an empty page."""


@router.post("/orders", status_code=201)
async def place(
    body: OrderCreate,
    services: Services,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Place an order for a user the gateway has authenticated; a repeat of its Idempotency-Key gets it back.

    Without a key (no caller of the mesh sends none: the gateway makes one per request) every call is new.
    """
    key = check_idempotency_key(idempotency_key) if idempotency_key is not None else uuid.uuid4().hex
    lines = tuple(RequestedLine(item.product_id, item.quantity) for item in body.items)
    command = PlaceOrder(body.user_id, lines, body.payment_method.token, key)
    order = await service.place_order(
        command, uow=services.uow, peers=services.peers, clock=services.clock, timeouts=services.timeouts
    )
    return ok(OrderRead.of(order).wire(), status=201)


@router.get("/orders")
async def list_orders(
    services: Services,
    user_id: Annotated[str | None, Query(alias="userId", max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> JSONResponse:
    """A user's orders (or everyone's when no userId is given: the gateway sends none only for admins)."""
    orders, total = await service.list_orders(user_id=user_id, limit=limit, offset=offset, uow=services.uow)
    return ok({"items": [OrderRead.of(o).wire() for o in orders], "total": total})


@router.get("/orders/{order_id}")
async def get_order(
    order_id: str,
    services: Services,
    user_id: Annotated[str, Query(alias="userId", min_length=1, max_length=64)],
    is_admin: Annotated[bool, Query(alias="isAdmin")] = False,
) -> JSONResponse:
    order = await service.get_order(order_id, user_id=user_id, is_admin=is_admin, uow=services.uow)
    return ok(OrderRead.of(order).wire())


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: str, body: OrderCancel, services: Services) -> JSONResponse:
    command = CancelOrder(order_id, body.user_id, body.is_admin)
    order = await service.cancel_order(command, uow=services.uow, peers=services.peers, clock=services.clock)
    return ok(OrderRead.of(order).wire())


@router.post(f"/{EXPIRY_BINDING}")
async def expiry_tick(services: Services, request: Request) -> JSONResponse:
    """Called by the Dapr cron input binding `order-expiry`: reap, expire, settle; answers the counts."""
    counts = await service.expire_overdue(
        batch=services.expiry_batch, uow=services.uow, peers=services.peers, clock=services.clock
    )
    if not any(counts.values()):
        routine(request)  # every 2 s: a tick that found nothing due is no news
    return ok(counts)
