"""catalog's pure product model: stock arithmetic, product rules and the event a new product causes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.catalog import domain
from apps.catalog.domain import CreateProduct, OutOfStock, Product, StockInconsistent
from servicekit import ValidationFailed

PRODUCT = Product("p-1", "SKU-1", "Widget", Decimal("12.50"), stock=5, reserved=0)


def test_reserve_moves_units_from_stock_to_reserved() -> None:
    assert PRODUCT.reserve(3) == Product("p-1", "SKU-1", "Widget", Decimal("12.50"), stock=2, reserved=3)
    assert PRODUCT.reserve(5).stock == 0


def test_reserving_more_than_available_is_out_of_stock_and_changes_nothing() -> None:
    with pytest.raises(OutOfStock) as caught:
        PRODUCT.reserve(6)
    assert caught.value.code == "OUT_OF_STOCK"
    assert caught.value.status == 409
    assert caught.value.details == {"productId": "p-1", "requested": 6, "available": 5}
    assert PRODUCT.stock == 5


def test_commit_lets_reserved_units_go_and_keeps_stock() -> None:
    held = PRODUCT.reserve(2)
    assert held.commit(2) == Product("p-1", "SKU-1", "Widget", Decimal("12.50"), stock=3, reserved=0)


def test_release_returns_reserved_units_or_committed_goods_to_stock() -> None:
    held = PRODUCT.reserve(2)
    assert (held.release(2).stock, held.release(2).reserved) == (5, 0)
    sold = held.commit(2)
    assert (sold.release(2, committed=True).stock, sold.release(2, committed=True).reserved) == (5, 0)


def test_units_never_leave_reserved_beyond_what_it_holds() -> None:
    with pytest.raises(StockInconsistent):
        PRODUCT.reserve(1).commit(2)
    with pytest.raises(StockInconsistent):
        PRODUCT.release(1)


def test_new_product_is_announced_with_its_whole_stock() -> None:
    product, event = domain.new_product(CreateProduct("AB-1_x.y", "  Big   Box ", Decimal("12.5"), 7))
    assert (product.sku, product.name, product.price, product.stock, product.reserved) == (
        "AB-1_x.y",
        "Big Box",
        Decimal("12.50"),
        7,
        0,
    )
    assert event.topic == "product.stock_changed"
    assert event.payload() == {
        "productId": product.id,
        "sku": "AB-1_x.y",
        "stock": 7,
        "reserved": 0,
        "change": 7,
        "reason": "created",
        "orderId": None,
    }


@pytest.mark.parametrize(
    ("sku", "name", "price", "stock", "code"),
    [
        ("", "Box", "1", 1, "INVALID_SKU"),
        ("a" * 65, "Box", "1", 1, "INVALID_SKU"),
        ("has space", "Box", "1", 1, "INVALID_SKU"),
        ("a/b", "Box", "1", 1, "INVALID_SKU"),
        ("SKU-1\n", "Box", "1", 1, "INVALID_SKU"),  # `$` alone would let a last newline through
        ("S", "   ", "1", 1, "INVALID_NAME"),
        ("S", "n" * 201, "1", 1, "INVALID_NAME"),
        ("S", "Box", "0", 1, "INVALID_PRICE"),
        ("S", "Box", "-1.00", 1, "INVALID_PRICE"),
        ("S", "Box", "1.005", 1, "INVALID_PRICE"),
        ("S", "Box", "1000000.01", 1, "INVALID_PRICE"),
        ("S", "Box", "NaN", 1, "INVALID_PRICE"),
        ("S", "Box", "Infinity", 1, "INVALID_PRICE"),
        ("S", "Box", "1", -1, "INVALID_STOCK"),
        ("S", "Box", "1", 1_000_001, "INVALID_STOCK"),
    ],
)
def test_invalid_product_fields_are_refused(sku: str, name: str, price: str, stock: int, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        domain.new_product(CreateProduct(sku, name, Decimal(price), stock))
    assert caught.value.code == code
    assert caught.value.status == 422


def test_product_limits_are_inclusive() -> None:
    product, _ = domain.new_product(CreateProduct("a" * 64, "n" * 200, Decimal("1000000"), 1_000_000))
    assert (product.price, product.stock) == (Decimal("1000000.00"), 1_000_000)
    assert domain.new_product(CreateProduct("S", "n", Decimal("0.01"), 0))[0].stock == 0


@pytest.mark.parametrize("candidate", ["", "a" * 129, "a b", "a/b", "abc\n"])
def test_ids_outside_the_safe_alphabet_are_not_valid(candidate: str) -> None:
    assert not domain.valid_id(candidate)
    assert domain.valid_id("order-1_a.B")
