"""payments' use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from apps.payments import provider
from apps.payments.domain import ChargeOrder, CloseOrder, Payment, PaymentStatus, record_charge, void_before_charge
from apps.payments.storage import PaymentStore
from servicekit.conflicts import retry_on_conflict
from servicekit.events import new_event

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def charge_order(command: ChargeOrder, *, payments: PaymentStore, clock: Clock = _utcnow) -> Payment:
    """Charge an order once: an existing payment (or void) means another delivery already decided."""

    async def attempt() -> Payment:
        existing = await payments.get(command.order_id)
        if existing is not None:
            return existing.payment
        payment, outcome = record_charge(command, provider.charge(command.payment_token, command.amount), clock())
        events = [] if outcome is None else [(outcome.topic, new_event(outcome.payload()))]
        # insert-only: if a racing delivery (or a void) wrote first, the retry re-reads and stops above.
        await payments.add(payment, events)
        return payment

    return await retry_on_conflict(attempt)


async def close_order(command: CloseOrder, *, payments: PaymentStore, clock: Clock = _utcnow) -> Payment | None:
    """Refund a captured payment, void a pending or missing one; settled ones stay as they are."""

    async def attempt() -> Payment | None:
        stored = await payments.get(command.order_id)
        now = clock()
        if stored is None:
            voided = void_before_charge(command, now)
            await payments.add(voided, [])
            return voided
        payment = stored.payment
        if payment.status is PaymentStatus.SUCCEEDED:
            provider.refund(payment.id, payment.amount)
            changed = payment.settled(PaymentStatus.REFUNDED, command.reason, now)
        elif payment.status is PaymentStatus.PENDING:
            changed = payment.settled(PaymentStatus.VOIDED, command.reason, now)
        else:
            return payment
        await payments.replace(changed, stored.etag)
        return changed

    return await retry_on_conflict(attempt)


async def find_payment(order_id: str, *, payments: PaymentStore) -> Payment | None:
    stored = await payments.get(order_id)
    return None if stored is None else stored.payment
