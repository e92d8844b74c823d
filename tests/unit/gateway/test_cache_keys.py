"""The gateway's cache keys (apps.gateway.cache.domain): what each product read depends on, and profiles by id."""

from __future__ import annotations

from apps.gateway.cache.domain import (
    ALL_PRODUCTS_MARK,
    marks_of_product_change,
    product_key,
    product_list_key,
    profile_key,
)


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


def test_a_profile_is_kept_per_user_apart_from_products_and_no_event_dates_it() -> None:
    assert profile_key("u-1") != profile_key("u-2")
    assert profile_key("x").entry not in {product_key("x").entry, product_list_key(20, 0).entry}
    assert profile_key("u-1").marks == (), "identity publishes no change of a user: its age alone dates it"
    assert profile_key("a/b").entry == "profile:a%2Fb"
