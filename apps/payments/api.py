"""payments' internal HTTP edge, reached only through its sidecar; the gateway checks ownership."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.payments import service
from apps.payments.deps import Services
from apps.payments.schemas import PaymentList, PaymentRead
from servicekit import ok

router = APIRouter(tags=["payments"])


@router.get("/payments")
async def list_payments(
    services: Services, order_id: Annotated[str, Query(alias="orderId", min_length=1, max_length=200)]
) -> JSONResponse:
    """The payment of one order: zero or one item."""
    payment = await service.find_payment(order_id, payments=services.payments)
    items = [] if payment is None else [PaymentRead.of(payment)]
    return ok(PaymentList(items=items).model_dump(by_alias=True))
