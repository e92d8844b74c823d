"""Shared helpers for payments' unit tests: CloudEvents, a store on a FakeSidecar, published events."""

from __future__ import annotations

import uuid
from typing import Any

from apps.payments.deps import PaymentsServices
from apps.payments.domain.provider import LedgerEntry
from apps.payments.peers import DaprStatePaymentProvider, from_state
from apps.payments.storage import DaprStatePaymentRepository
from servicekit import EventEnvelope, new_event
from servicekit.state_outbox import StateOutbox
from tests.unit.fakes import FakeSidecar


def services_on(sidecar: FakeSidecar) -> PaymentsServices:
    """payments' services on a sidecar; a new call is a restarted payments on the same state."""
    return PaymentsServices(
        payments=DaprStatePaymentRepository(sidecar, StateOutbox(sidecar)), provider=DaprStatePaymentProvider(sidecar)
    )


def new_order_id() -> str:
    return uuid.uuid4().hex


def cloud_event(topic: str, payload: dict[str, Any], *, event: EventEnvelope | None = None) -> dict[str, Any]:
    """Wrap a payload the way Dapr delivers it: a CloudEvent whose data is the envelope."""
    envelope = event or new_event(payload)
    return {"id": envelope.event_id, "type": topic, "data": envelope.model_dump(mode="json", by_alias=True)}


def order_created(order_id: str, *, card: str = "tok_ok", total: float = 42.5, user_id: str = "u-1") -> dict[str, Any]:
    item = {"productId": "p-1", "name": "Pen", "unitPrice": total, "quantity": 1}
    return {"orderId": order_id, "userId": user_id, "total": total, "items": [item], "paymentToken": card}


def order_cancelled(order_id: str, *, total: float = 42.5, previous: str = "CONFIRMED") -> dict[str, Any]:
    return {
        "orderId": order_id,
        "userId": "u-1",
        "total": total,
        "previousStatus": previous,
        "reason": "CUSTOMER_CANCELLED",
    }


def stored(sidecar: FakeSidecar, order_id: str) -> dict[str, Any] | None:
    item = sidecar.state.get(("statestore", f"payment:{order_id}"))
    return None if item is None else dict(item.value)


def staged(sidecar: FakeSidecar) -> list[tuple[str, dict[str, Any]]]:
    """The events waiting in the state outbox: (topic, payload)."""
    return sidecar.staged_events()


def ledger(sidecar: FakeSidecar, order_id: str) -> LedgerEntry | None:
    """The simulated provider's books for one order."""
    item = sidecar.state.get(("statestore", f"provider:{order_id}"))
    return None if item is None else from_state(item.value)


def money_taken(sidecar: FakeSidecar, order_id: str) -> tuple[int, int]:
    """(captures, refunds) the provider recorded for an order."""
    entry = ledger(sidecar, order_id)
    return (0, 0) if entry is None else (entry.captures, entry.refunds)
