"""Properties of the order lifecycle, checked over random sequences of transitions.

The lifecycle of ARCHITECTURE.md, written out here rather than read from the code: PLACING becomes
PENDING_PAYMENT or FAILED; PENDING_PAYMENT becomes CONFIRMED, CANCELLED or EXPIRED; CONFIRMED may still be
CANCELLED; nothing else moves. Any other step is refused with IllegalTransition and leaves the order as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.orders.domain import Order, OrderStatus, PlaceOrder, RequestedLine, placing_order
from apps.orders.errors import IllegalTransition, OrderNotCancellable

S = OrderStatus
ALLOWED = {
    (S.PLACING, S.PENDING_PAYMENT),
    (S.PLACING, S.FAILED),
    (S.PENDING_PAYMENT, S.CONFIRMED),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PENDING_PAYMENT, S.EXPIRED),
    (S.CONFIRMED, S.CANCELLED),
}
CLOSED = {S.CONFIRMED, S.CANCELLED, S.EXPIRED, S.FAILED}
START = datetime(2026, 1, 1, tzinfo=UTC)
RESERVATION = {"items": [{"productId": "p-1", "name": "Widget", "unitPrice": 2.5, "quantity": 2}]}
Step = Callable[[Order, datetime], Order]
STEPS: dict[S, Step] = {
    S.PENDING_PAYMENT: lambda o, now: o.placed(RESERVATION, now=now, payment_timeout=timedelta(minutes=15)),
    S.FAILED: lambda o, now: o.failed("OUT_OF_STOCK", now),
    S.CONFIRMED: lambda o, now: o.confirmed("pay-1", now),
    S.CANCELLED: lambda o, now: o.cancelled("CUSTOMER_CANCELLED", now),
    S.EXPIRED: lambda o, now: o.expired(now),
}
# Deterministic in CI (derandomize), no example database written under the checkout.
SEQUENCES = settings(max_examples=300, derandomize=True, deadline=None, database=None)


def new_order() -> Order:
    command = PlaceOrder("user-1", (RequestedLine("p-1", 2),), "tok_ok", "key-1")
    return placing_order(command, command.lines, now=START, deadline=timedelta(seconds=30))


@given(st.lists(st.sampled_from(list(STEPS)), max_size=12))
@SEQUENCES
def test_an_order_takes_only_the_steps_of_its_lifecycle(targets: list[S]) -> None:
    order = new_order()
    for n, target in enumerate(targets, start=1):
        now = START + timedelta(seconds=n)
        if (order.status, target) not in ALLOWED:
            try:
                STEPS[target](order, now)
            except IllegalTransition as refused:
                assert refused.status == 409
                if target is S.CANCELLED:
                    assert isinstance(refused, OrderNotCancellable)
                continue
            raise AssertionError(f"{order.status} -> {target} was applied")
        moved = STEPS[target](order, now)
        assert (moved.status, moved.updated_at) == (target, now)
        assert (moved.id, moved.user_id, moved.created_at, moved.request_hash) == (
            order.id,
            order.user_id,
            order.created_at,
            order.request_hash,
        )
        assert moved.settlement_due == (target in CLOSED)  # every close is settled with catalog
        order = moved


@given(st.lists(st.sampled_from(list(STEPS)), max_size=12))
@SEQUENCES
def test_a_shown_order_never_goes_back_to_an_internal_status(targets: list[S]) -> None:
    order, shown = new_order(), False
    for n, target in enumerate(targets, start=1):
        try:
            order = STEPS[target](order, START + timedelta(seconds=n))
        except IllegalTransition:
            continue
        shown = shown or order.visible_to(order.user_id, is_admin=False)
        assert not (shown and order.status in (S.PLACING, S.FAILED))
