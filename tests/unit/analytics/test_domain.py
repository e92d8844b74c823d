"""The summary's arithmetic, without storage."""

from __future__ import annotations

from decimal import Decimal

from apps.analytics import domain
from apps.analytics.domain import OrderStatus, Summary

P, C, X, E = OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.CANCELLED, OrderStatus.EXPIRED


def run(*commands: domain.Observe) -> Summary:
    summary = Summary()
    for command in commands:
        changed = summary.observe(command)
        assert changed is not None
        summary = changed
    return summary


def test_confirmed_order_moves_to_confirmed_and_earns_its_total() -> None:
    summary = run(domain.order_created("e1"), domain.order_confirmed("e2", Decimal("10.10")))
    assert summary.orders_by_status == {P: 0, C: 1, X: 0, E: 0}
    assert summary.revenue == Decimal("10.10")
    assert summary.event_counts == {"order.created": 1, "order.confirmed": 1}


def test_cancelling_a_confirmed_order_gives_its_revenue_back() -> None:
    summary = run(
        domain.order_created("e1"),
        domain.order_confirmed("e2", Decimal("10.10")),
        domain.order_created("e3"),
        domain.order_confirmed("e4", Decimal("0.20")),
        domain.order_cancelled("e5", C, Decimal("10.10")),
    )
    assert summary.orders_by_status == {P: 0, C: 1, X: 1, E: 0}
    assert summary.revenue == Decimal("0.20")


def test_cancelling_or_expiring_an_unpaid_order_earns_nothing() -> None:
    summary = run(
        domain.order_created("e1"),
        domain.order_created("e2"),
        domain.order_created("e3"),
        domain.order_cancelled("e4", P, Decimal("5.00")),
        domain.order_expired("e5"),
    )
    assert summary.orders_by_status == {P: 1, C: 0, X: 1, E: 1}
    assert summary.revenue == Decimal("0.00")


def test_revenue_adds_in_cents_without_float_drift() -> None:
    summary = run(*(domain.order_confirmed(f"e{n}", Decimal("0.10")) for n in range(3)))
    assert summary.revenue == Decimal("0.30")
    assert str(summary.revenue) == "0.30"


def test_counts_never_go_below_zero() -> None:
    summary = run(domain.order_confirmed("e1", Decimal("1")), domain.order_expired("e2"))
    assert summary.orders_by_status == {P: 0, C: 1, X: 0, E: 1}


def test_registrations_and_other_topics_are_counted() -> None:
    summary = run(
        domain.user_registered("e1"), domain.counted("tenant.provisioned", "e2"), domain.user_registered("e3")
    )
    assert summary.registrations == 2
    assert summary.event_counts == {"user.registered": 2, "tenant.provisioned": 1}


def test_a_shard_written_before_markers_still_knows_its_ids() -> None:
    legacy = Summary(seen=("e1",))
    assert legacy.observe(domain.order_confirmed("e1", Decimal("3"))) is None
    assert run(domain.order_confirmed("e2", Decimal("3"))).seen == ()  # markers remember now, not the shard


def test_shards_add_up_to_one_summary() -> None:
    first = run(domain.order_created("e1"), domain.order_confirmed("e2", Decimal("0.10")), domain.user_registered("e3"))
    second = run(domain.order_created("e4"), domain.order_confirmed("e5", Decimal("0.20")), domain.order_expired("e6"))
    third = run(domain.order_created("e7"), domain.counted("tenant.provisioned", "e8"))
    total = domain.merged([first, second, third])
    assert total.orders_by_status == {P: 1, C: 2, X: 0, E: 1}
    assert str(total.revenue) == "0.30"
    assert total.registrations == 1
    assert total.event_counts == {
        "order.created": 3,
        "order.confirmed": 2,
        "user.registered": 1,
        "order.expired": 1,
        "tenant.provisioned": 1,
    }
    assert total.seen == ()  # dedupe stays with each shard; the report never needs it


def test_no_shards_add_up_to_an_empty_summary() -> None:
    assert domain.merged([]) == Summary()
