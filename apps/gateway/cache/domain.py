"""Where the gateway keeps its cached reads, and which change marks each depends on (servicekit.read_cache decides
freshness, keeps the copies and moves the marks).

A product and every page of the product list are dated by catalog's `product.stock_changed` events. A
profile (/users/me) has no marks: identity publishes no change of a user (`user.registered` only, and no
account is ever edited or deleted), so a profile is dated by its age alone (`USER_CACHE_FRESH_SECONDS`).
A change of a user added to identity must publish an event and mark `profile_key(...)`'s copies here.
"""

from __future__ import annotations

from servicekit.read_cache import CacheKey, key_part

ALL_PRODUCTS_MARK = "changed:products"
"""Marked on every product change: every cached page of the product list depends on it."""


def product_mark(product_id: str) -> str:
    return f"changed:product:{key_part(product_id)}"


def product_key(product_id: str) -> CacheKey:
    """One product: changed by its own stock events only."""
    return CacheKey(f"product:{key_part(product_id)}", (product_mark(product_id),))


def product_list_key(limit: int, offset: int) -> CacheKey:
    """One page of the product list: changed by any product's change (a new product moves every page)."""
    return CacheKey(f"products:limit={limit}:offset={offset}", (ALL_PRODUCTS_MARK,))


def marks_of_product_change(product_id: str) -> tuple[str, ...]:
    """What a change of one product's stock makes out of date: that product, and every page of the list."""
    return (product_mark(product_id), ALL_PRODUCTS_MARK)


def profile_key(user_id: str) -> CacheKey:
    """One user's profile as identity's Users.GetUser answered it; dated by its age only (see above)."""
    return CacheKey(f"profile:{key_part(user_id)}")
