"""catalog's internal HTTP edge: wire shapes, status codes and error codes in the envelope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .helpers import unique_sku


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"sku": unique_sku(), "name": "Desk", "price": 120.5, "stock": 3} | fields
    response = client.post("/products", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def error(response: Any) -> tuple[int, str]:
    """The real status and code of a refusal; catalog is inside the mesh, so it travels as HTTP 200."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is False
    return body["statusCode"], body["error"]["code"]


def test_create_answers_201_with_the_public_shape(client: TestClient) -> None:
    sku = unique_sku()
    product = create(client, sku=sku, price=12.5, stock=7)
    assert product == {"id": product["id"], "sku": sku, "name": "Desk", "price": 12.5, "stock": 7}
    assert client.get(f"/products/{product['id']}").json()["data"] == product


def test_duplicate_sku_is_409(client: TestClient) -> None:
    sku = unique_sku()
    create(client, sku=sku)
    assert error(client.post("/products", json={"sku": sku, "name": "X", "price": 1, "stock": 1})) == (
        409,
        "SKU_TAKEN",
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"price": 12.345}, "INVALID_PRICE"),
        ({"price": 0}, "INVALID_PRICE"),
        ({"price": 1_000_000.01}, "INVALID_PRICE"),
        ({"price": "12.50"}, "VALIDATION_FAILED"),
        ({"stock": -1}, "INVALID_STOCK"),
        ({"stock": 1.5}, "VALIDATION_FAILED"),
        ({"sku": "no spaces"}, "INVALID_SKU"),
        ({"name": ""}, "INVALID_NAME"),
        ({"colour": "red"}, "VALIDATION_FAILED"),
    ],
)
def test_invalid_products_are_422(client: TestClient, fields: dict[str, Any], code: str) -> None:
    body = {"sku": unique_sku(), "name": "Desk", "price": 1, "stock": 1} | fields
    assert error(client.post("/products", json=body)) == (422, code)


def test_listing_pages_and_validates_its_window(client: TestClient) -> None:
    made = [create(client) for _ in range(3)]
    page = client.get("/products", params={"limit": 2, "offset": 1}).json()["data"]
    assert page == {"items": made[1:], "total": 3}
    assert client.get("/products").json()["data"]["total"] == 3
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}):
        assert error(client.get("/products", params=params)) == (422, "VALIDATION_FAILED")


def test_unknown_product_is_404(client: TestClient) -> None:
    assert error(client.get("/products/nope")) == (404, "PRODUCT_NOT_FOUND")


def test_reservation_lifecycle_over_http(client: TestClient) -> None:
    product = create(client, price=2.5, stock=5)
    body = {"orderId": "order-1", "items": [{"productId": product["id"], "quantity": 2}]}
    created = client.post("/reservations", json=body)
    assert created.status_code == 201
    assert created.json()["data"] == {
        "orderId": "order-1",
        "status": "RESERVED",
        "items": [{"productId": product["id"], "name": "Desk", "unitPrice": 2.5, "quantity": 2}],
        "total": 5.0,
    }
    again = client.post("/reservations", json=body)
    assert (again.status_code, again.json()["data"]) == (200, created.json()["data"])
    assert client.get(f"/products/{product['id']}").json()["data"]["stock"] == 3
    assert client.get("/reservations/order-1").json()["data"] == created.json()["data"]

    committed = client.post("/reservations/order-1/commit")
    assert (committed.status_code, committed.json()["data"]["status"]) == (200, "COMMITTED")
    assert client.post("/reservations/order-1/commit").json()["data"]["status"] == "COMMITTED"
    released = client.post("/reservations/order-1/release")
    assert (released.status_code, released.json()["data"]["status"]) == (200, "RELEASED")
    assert client.get(f"/products/{product['id']}").json()["data"]["stock"] == 5
    assert error(client.post("/reservations/order-1/commit")) == (409, "RESERVATION_RELEASED")


def test_reservation_errors_carry_their_codes_and_details(client: TestClient) -> None:
    product = create(client, stock=1)
    two = {"productId": product["id"], "quantity": 2}
    short = client.post("/reservations", json={"orderId": "o-2", "items": [two]})
    assert error(short) == (409, "OUT_OF_STOCK")
    assert short.json()["error"]["details"] == {"productId": product["id"], "requested": 2, "available": 1}
    unknown = client.post("/reservations", json={"orderId": "o-2", "items": [{"productId": "ghost", "quantity": 1}]})
    assert error(unknown) == (404, "PRODUCT_NOT_FOUND")
    assert unknown.json()["error"]["details"] == {"productId": "ghost"}
    for quantity in (0, 1001, 1.5):
        line = {"productId": product["id"], "quantity": quantity}
        assert error(client.post("/reservations", json={"orderId": "o-2", "items": [line]})) == (
            422,
            "INVALID_QUANTITY",
        )
    assert error(client.post("/reservations", json={"orderId": "o-2", "items": []})) == (422, "INVALID_ITEMS")
    assert error(client.post("/reservations", json={"orderId": "a b", "items": []})) == (422, "VALIDATION_FAILED")
    assert error(client.get("/reservations/o-2")) == (404, "RESERVATION_NOT_FOUND")
    assert error(client.post("/reservations/o-2/commit")) == (404, "RESERVATION_NOT_FOUND")
    released = client.post("/reservations/o-2/release")  # an order that never reserved: a tombstone
    assert (released.status_code, released.json()["data"]["status"]) == (200, "RELEASED")
    assert error(client.post("/reservations", json={"orderId": "o-2", "items": [{**two, "quantity": 1}]})) == (
        409,
        "RESERVATION_RELEASED",
    )
