"""The read cache's rules, without I/O (servicekit.read_cache.domain): freshness against change marks and age,
when a failure answers a copy, marks that only move forward and outlive the copies, keys that quote ids."""

from __future__ import annotations

import pytest

from servicekit import Conflict, DependencyUnavailable, JunctionError, NotFound, RateLimited, ValidationFailed
from servicekit.errors import ServiceUnavailable, UpstreamTimeout
from servicekit.read_cache.domain import (
    CachedCopy,
    fresh_seconds,
    is_fresh,
    key_part,
    later_mark,
    mark_ttl_seconds,
    serves_stale,
)
from servicekit.sidecar_errors import BreakerOpen, SidecarCallTimeout, SidecarUnreachable

COPY = CachedCopy({"id": "p-1", "stock": 3}, fetched_at=100.0)
LATER = 1_000.0
"""Any time after the copy's read, within its fresh window (WINDOW)."""
WINDOW = 86_400.0


def test_a_copy_with_no_change_recorded_is_fresh() -> None:
    assert is_fresh(COPY, [], now=LATER, fresh_seconds=WINDOW)
    assert is_fresh(COPY, [None, None], now=LATER, fresh_seconds=WINDOW)


def test_a_copy_read_after_the_last_change_is_fresh() -> None:
    assert is_fresh(COPY, [99.0], now=LATER, fresh_seconds=WINDOW)
    assert is_fresh(COPY, [None, 50.0, 99.999], now=LATER, fresh_seconds=WINDOW)


def test_a_change_after_the_read_began_or_at_the_same_moment_makes_it_out_of_date() -> None:
    assert not is_fresh(COPY, [100.5], now=LATER, fresh_seconds=WINDOW)
    assert not is_fresh(COPY, [100.0], now=LATER, fresh_seconds=WINDOW), "a change at the read's start may be missing"
    assert not is_fresh(COPY, [10.0, None, 101.0], now=LATER, fresh_seconds=WINDOW), "the latest mark decides"


def test_a_copy_is_fresh_only_while_younger_than_its_window() -> None:
    assert is_fresh(COPY, [], now=100.0 + 299.9, fresh_seconds=300)
    assert not is_fresh(COPY, [], now=100.0 + 300, fresh_seconds=300)
    assert not is_fresh(COPY, [], now=100.0, fresh_seconds=0), "0: never fresh, kept only for the fallback"


def test_a_window_does_not_make_a_changed_copy_fresh() -> None:
    assert not is_fresh(COPY, [150.0], now=160.0, fresh_seconds=300)


def test_a_copy_is_never_fresh_longer_than_its_ttl_so_never_longer_than_its_marks_are_kept() -> None:
    assert fresh_seconds(300, None) == 300, "dated by marks only: still no longer than the TTL"
    assert fresh_seconds(86_400, 300) == 300
    assert fresh_seconds(60, 300) == 60
    assert fresh_seconds(300, 0) == 0
    assert mark_ttl_seconds(300, 0.0) > fresh_seconds(300, None), "a mark outlives every fresh window it dates"


@pytest.mark.parametrize(
    "failure",
    [
        ServiceUnavailable("x"),
        UpstreamTimeout("x"),
        BreakerOpen("x"),
        SidecarCallTimeout("x"),
        SidecarUnreachable("x"),
        DependencyUnavailable("x"),
        JunctionError("a crash"),
    ],
    ids=["503", "504", "breaker", "sidecar-timeout", "own-sidecar", "dependency", "500"],
)
def test_a_failure_to_answer_may_answer_a_copy(failure: JunctionError) -> None:
    assert serves_stale(failure)


@pytest.mark.parametrize(
    "refusal",
    [NotFound("gone"), ValidationFailed("bad"), Conflict("taken"), RateLimited("slow down", retry_after=1)],
    ids=["404", "422", "409", "429"],
)
def test_a_refusal_is_an_answer_never_replaced_by_a_copy(refusal: JunctionError) -> None:
    assert not serves_stale(refusal)


def test_a_mark_only_moves_forward() -> None:
    assert later_mark(None, 5.0) == 5.0
    assert later_mark(3.0, 5.0) == 5.0
    assert later_mark(9.0, 5.0) == 9.0


def test_a_mark_outlives_every_copy_filled_before_it() -> None:
    """A copy is written up to one fill after its read began, and lives its TTL from that write."""
    assert mark_ttl_seconds(300, 7.0) >= 300 + 7
    assert mark_ttl_seconds(300, 6.2) >= 300 + 6.2


def test_an_id_in_a_key_is_quoted_so_it_cannot_mean_anything_there() -> None:
    assert key_part("a:b|c/d") == "a%3Ab%7Cc%2Fd"
    assert key_part("u-1_x") == "u-1_x"
