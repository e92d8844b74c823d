"""The cached reads' rules, without I/O: keys, freshness against change marks, when a failure answers a copy."""

from __future__ import annotations

import pytest

from apps.gateway.cache.domain import (
    ALL_PRODUCTS_MARK,
    CachedCopy,
    is_fresh,
    later_mark,
    mark_ttl_seconds,
    marks_of_product_change,
    product_key,
    product_list_key,
    serves_stale,
)
from servicekit import Conflict, DependencyUnavailable, JunctionError, NotFound, RateLimited, ValidationFailed
from servicekit.errors import ServiceUnavailable, UpstreamTimeout
from servicekit.sidecar_errors import BreakerOpen, SidecarCallTimeout

COPY = CachedCopy({"id": "p-1", "stock": 3}, fetched_at=100.0)


def test_a_copy_with_no_change_recorded_is_fresh() -> None:
    assert is_fresh(COPY, [])
    assert is_fresh(COPY, [None, None])


def test_a_copy_read_after_the_last_change_is_fresh() -> None:
    assert is_fresh(COPY, [99.0])
    assert is_fresh(COPY, [None, 50.0, 99.999])


def test_a_change_after_the_read_began_or_at_the_same_moment_makes_it_out_of_date() -> None:
    assert not is_fresh(COPY, [100.5])
    assert not is_fresh(COPY, [100.0]), "a change at the very moment the read began may not be in it"
    assert not is_fresh(COPY, [10.0, None, 101.0]), "the latest mark decides"


@pytest.mark.parametrize(
    "failure",
    [
        ServiceUnavailable("x"),
        UpstreamTimeout("x"),
        BreakerOpen("x"),
        SidecarCallTimeout("x"),
        DependencyUnavailable("x"),
        JunctionError("a crash"),
    ],
    ids=["503", "504", "breaker", "sidecar-timeout", "dependency", "500"],
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


def test_a_product_depends_on_its_own_changes_and_a_page_on_every_products() -> None:
    product, page = product_key("p-1"), product_list_key(20, 40)
    assert product.marks == ("changed:product:p-1",)
    assert page.marks == (ALL_PRODUCTS_MARK,)
    assert set(marks_of_product_change("p-1")) == {*product.marks, *page.marks}
    assert not set(marks_of_product_change("p-2")) & set(product.marks)


def test_keys_are_distinct_per_product_and_page_and_quote_what_could_mean_something() -> None:
    keys = {product_key("p-1").entry, product_key("p-2").entry, product_list_key(20, 0).entry}
    keys |= {product_list_key(20, 20).entry, product_list_key(10, 0).entry}
    assert len(keys) == 5
    assert product_key("a:b|c/d").entry == "product:a%3Ab%7Cc%2Fd"
    assert product_key("x").entry != product_list_key(20, 0).entry


def test_a_mark_outlives_every_copy_filled_before_it() -> None:
    """A copy is written up to one fill after its read began, and lives its TTL from that write."""
    assert mark_ttl_seconds(300, 7.0) >= 300 + 7
    assert mark_ttl_seconds(300, 6.2) >= 300 + 6.2
