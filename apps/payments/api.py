"""payments' internal HTTP edge, reached only through its sidecar; the gateway checks ownership."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.payments import service
from apps.payments.deps import Services
from apps.payments.schemas import LedgerEntryRead, LedgerList, PaymentList, PaymentRead
from servicekit import ok

router = APIRouter(tags=["payments"])
OrderId = Annotated[str, Query(alias="orderId", min_length=1, max_length=200)]


@router.get("/payments")
async def list_payments(services: Services, order_id: OrderId) -> JSONResponse:
    """The payment of one order: zero or one item."""
    payment = await service.find_payment(order_id, payments=services.payments)
    items = [] if payment is None else [PaymentRead.of(payment)]
    return ok(PaymentList(items=items).model_dump(by_alias=True))


@router.get("/provider/ledger")
async def ledger_of_order(services: Services, order_id: OrderId) -> JSONResponse:
    """The simulated provider's books for one order: zero or one entry, with its captures and refunds."""
    entry = await service.find_ledger_entry(order_id, provider=services.provider)
    items = [] if entry is None else [LedgerEntryRead.of(entry)]
    return ok(LedgerList(items=items).model_dump(by_alias=True))
