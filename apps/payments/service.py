"""payments' use cases; every dependency arrives as a keyword argument.

A charge is recorded as CHARGING (insert-only) before the provider hears of it, and the provider is
always called with the order id as idempotency key. So racing or redelivered `order.created` events
charge once, a crash after the provider call is finished by the redelivery (the provider answers the
same result again), and a close that finds CHARGING cancels at the provider: no money is kept either way.
"""

from __future__ import annotations

from apps.payments.domain import (
    ChargeOrder,
    CloseOrder,
    Payment,
    PaymentNotRecorded,
    PaymentStatus,
    begin_charge,
    record_charge,
    record_close,
    void_before_charge,
)
from apps.payments.domain.provider import LedgerEntry
from apps.payments.peers import PaymentProvider
from apps.payments.storage import PaymentRepository, StoredPayment
from servicekit.clock import Clock, utc_now
from servicekit.conflicts import retry_on_conflict
from servicekit.events import new_event

HOLDS_MONEY = (PaymentStatus.CHARGING, PaymentStatus.SUCCEEDED, PaymentStatus.PENDING)
"""Statuses under which the provider may have (or may still) take money for the order."""


async def _intent(command: ChargeOrder, payments: PaymentRepository, clock: Clock) -> StoredPayment:
    """The order's payment record, the CHARGING intent written first when there is none."""
    stored = await payments.get(command.order_id)
    if stored is not None:
        return stored
    # insert-only: a racing delivery (or a void) that wrote first makes this clash, and the retry re-reads.
    await payments.add(begin_charge(command, clock()), [])
    stored = await payments.get(command.order_id)
    if stored is None:
        raise PaymentNotRecorded("The payment record was not kept.")
    return stored


async def charge_order(
    command: ChargeOrder, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock = utc_now
) -> Payment:
    """Charge an order once; a settled payment (or a void) means another delivery already decided."""

    async def attempt() -> Payment:
        stored = await _intent(command, payments, clock)
        payment = stored.payment
        if payment.status is not PaymentStatus.CHARGING:
            return payment
        token = payment.token or command.payment_token
        result = await provider.charge(key=payment.order_id, token=token, amount=payment.amount)
        settled, outcome = record_charge(payment, result, clock())
        events = [] if outcome is None else [(outcome.topic, new_event(outcome.payload()))]
        # Under the intent's ETag: if a close or a racing delivery settled it meanwhile, re-read and stop.
        await payments.replace(settled, stored.etag, events)
        return settled

    return await retry_on_conflict(attempt)


async def close_order(
    command: CloseOrder, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock = utc_now
) -> Payment | None:
    """Refund a captured payment, void a pending or missing one; settled ones stay as they are."""

    async def attempt() -> Payment | None:
        stored = await payments.get(command.order_id)
        if stored is None:
            voided = void_before_charge(command, clock())
            await payments.add(voided, [])
            return voided
        payment = stored.payment
        if payment.status not in HOLDS_MONEY:
            return payment
        # Also for CHARGING: the charge may be in flight or its delivery dead; the provider settles the race.
        entry: LedgerEntry = await provider.cancel(key=payment.order_id, amount=payment.amount)
        changed = record_close(payment, entry, command.reason, clock())
        await payments.replace(changed, stored.etag)
        return changed

    return await retry_on_conflict(attempt)


async def find_payment(order_id: str, *, payments: PaymentRepository) -> Payment | None:
    stored = await payments.get(order_id)
    return None if stored is None else stored.payment


async def find_ledger_entry(order_id: str, *, provider: PaymentProvider) -> LedgerEntry | None:
    """What the provider's books say about an order's charge (for audits and the chaos suite's books)."""
    return await provider.entry(order_id)
