"""Orders, their payments, the caller's notifications and the admin report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.gateway.api.params import ADMIN, ID_PATTERN, SIGNED_IN, Limit, Offset, ResourceId
from apps.gateway.deps import AdminOnly, PeersDep, SignedIn
from apps.gateway.peers import segment
from apps.gateway.schemas import (
    Envelope,
    NotificationList,
    OrderCreate,
    OrderList,
    OrderRead,
    PaymentList,
    ReportSummary,
    link,
    refusals,
)
from servicekit import ok
from servicekit.idempotency import IDEMPOTENCY_KEY_HEADER, RequestIdempotencyKey
from servicekit.tokens import Claims

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[SIGNED_IN])
PLACED = {"order_id": "$response.body#/data/id"}
ORDER_LINKS = {
    "GetOrder": link("GET", "/api/v1/orders/{order_id}", "The order.", parameters=PLACED),
    "CancelOrder": link("POST", "/api/v1/orders/{order_id}/cancel", "Cancel it.", parameters=PLACED),
    "PaymentsOfOrder": link("GET", "/api/v1/payments", "Its payment.", parameters={"orderId": PLACED["order_id"]}),
}


def _viewer(claims: Claims) -> dict[str, str | bool]:
    return {"userId": claims.subject, "isAdmin": claims.role == "admin"}


@router.post(
    "/orders",
    status_code=201,
    response_model=Envelope[OrderRead],
    responses={**refusals(400, 401, 404, 409, 413, 422), 201: {"links": ORDER_LINKS}},
)
async def place_order(body: OrderCreate, claims: SignedIn, peers: PeersDep, key: RequestIdempotencyKey) -> JSONResponse:
    """Place an order; the same Idempotency-Key from the same customer answers the same order."""
    order = {"userId": claims.subject, **body.model_dump(by_alias=True)}
    headers = {IDEMPOTENCY_KEY_HEADER: key}
    return ok(await peers.call(peers.apps.orders, "POST", "/orders", json=order, headers=headers), status=201)


@router.get("/orders", response_model=Envelope[OrderList], responses=refusals(401, 422))
async def list_orders(claims: SignedIn, peers: PeersDep, limit: Limit = 20, offset: Offset = 0) -> JSONResponse:
    """The caller's orders; an admin sees everyone's."""
    params: dict[str, str | int] = {"limit": limit, "offset": offset}
    if claims.role != "admin":
        params["userId"] = claims.subject
    return ok(await peers.call(peers.apps.orders, "GET", "/orders", params=params))


@router.get("/orders/{order_id}", response_model=Envelope[OrderRead], responses=refusals(401, 404, 422))
async def get_order(order_id: ResourceId, claims: SignedIn, peers: PeersDep) -> JSONResponse:
    return ok(await peers.call(peers.apps.orders, "GET", f"/orders/{segment(order_id)}", params=_viewer(claims)))


@router.post("/orders/{order_id}/cancel", response_model=Envelope[OrderRead], responses=refusals(401, 404, 409, 422))
async def cancel_order(order_id: ResourceId, claims: SignedIn, peers: PeersDep) -> JSONResponse:
    path = f"/orders/{segment(order_id)}/cancel"
    return ok(await peers.call(peers.apps.orders, "POST", path, json=_viewer(claims)))


@router.get("/payments", response_model=Envelope[PaymentList], responses=refusals(401, 404, 422))
async def payments_of_order(
    claims: SignedIn, peers: PeersDep, order_id: Annotated[str, Query(alias="orderId", pattern=ID_PATTERN)]
) -> JSONResponse:
    """The payments of one order, for its owner or an admin (someone else's order is a 404)."""
    await peers.call(peers.apps.orders, "GET", f"/orders/{segment(order_id)}", params=_viewer(claims))
    return ok(await peers.call(peers.apps.payments, "GET", "/payments", params={"orderId": order_id}))


@router.get("/notifications", response_model=Envelope[NotificationList], responses=refusals(401, 422))
async def my_notifications(claims: SignedIn, peers: PeersDep, limit: Limit = 50) -> JSONResponse:
    params = {"userId": claims.subject, "limit": limit}
    return ok(await peers.call(peers.apps.notifications, "GET", "/notifications", params=params))


@router.get(
    "/reports/summary", response_model=Envelope[ReportSummary], responses=refusals(401, 403), dependencies=[ADMIN]
)
async def report(_: AdminOnly, peers: PeersDep) -> JSONResponse:
    return ok(await peers.call(peers.apps.analytics, "GET", "/reports/summary"))
