"""payments' Dapr state: one `payment:{orderId}` document per order, with its events (the provider's books: `peers`).

Written insert-only first (the CHARGING intent, or a void), then only under the ETag it was read with,
so of two racing deliveries exactly one moves a payment on and the other re-reads what it did.

Its events go through servicekit's state outbox, not Dapr's: Dapr 1.18.3 publishes a store's
outbox to the one `outboxPublishTopic` of the component, and neither a projection nor operation
metadata can pick `payment.failed` over `payment.succeeded` (docs/events.md,
tests/e2e/test_dapr_outbox.py::test_an_operation_can_choose_the_topic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from apps.payments.domain import Payment, PaymentStatus
from servicekit.clock import utc_text
from servicekit.events import EventEnvelope
from servicekit.sidecar import SidecarClient, StateOp
from servicekit.state_outbox import StateOutbox


def payment_key(order_id: str) -> str:
    return f"payment:{order_id}"


@dataclass(frozen=True)
class StoredPayment:
    payment: Payment
    etag: str | None


class PaymentRepository(Protocol):
    async def get(self, order_id: str) -> StoredPayment | None: ...

    async def add(self, payment: Payment, events: list[tuple[str, EventEnvelope]]) -> None:
        """Insert a payment (never over an existing one) together with its events."""

    async def replace(
        self, payment: Payment, etag: str | None, events: Sequence[tuple[str, EventEnvelope]] = ()
    ) -> None:
        """Overwrite a payment (and stage its events) only if nobody wrote it since it was read with `etag`."""


def to_state(payment: Payment) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": payment.id,
        "orderId": payment.order_id,
        "userId": payment.user_id,
        "amount": float(payment.amount),
        "status": payment.status.value,
        "reason": payment.reason,
        "createdAt": utc_text(payment.created_at),
        "updatedAt": utc_text(payment.updated_at),
    }
    if payment.token is not None:
        state["token"] = payment.token
    return state


def from_state(value: dict[str, Any]) -> Payment:
    return Payment(
        id=value["id"],
        order_id=value["orderId"],
        user_id=value["userId"],
        amount=Decimal(str(value["amount"])),
        status=PaymentStatus(value["status"]),
        reason=value.get("reason"),
        created_at=datetime.fromisoformat(value["createdAt"]),
        updated_at=datetime.fromisoformat(value["updatedAt"]),
        token=value.get("token"),
    )


class DaprStatePaymentRepository:
    def __init__(self, sidecar: SidecarClient, outbox: StateOutbox) -> None:
        self.sidecar = sidecar
        self.outbox = outbox

    async def get(self, order_id: str) -> StoredPayment | None:
        item = await self.sidecar.get_state(payment_key(order_id))
        if item is None or not item.value:
            return None
        return StoredPayment(from_state(item.value), item.etag)

    async def add(self, payment: Payment, events: list[tuple[str, EventEnvelope]]) -> None:
        op = StateOp(payment_key(payment.order_id), to_state(payment), insert_only=True)
        await self.outbox.commit([op], events)

    async def replace(
        self, payment: Payment, etag: str | None, events: Sequence[tuple[str, EventEnvelope]] = ()
    ) -> None:
        op = StateOp(payment_key(payment.order_id), to_state(payment), etag=etag, insert_only=etag is None)
        await self.outbox.commit([op], list(events))
