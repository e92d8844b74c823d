"""catalog's wire shapes (camelCase JSON); amounts go out as JSON numbers."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, StrictFloat, StrictInt

from apps.catalog.domain import ID, NAME_MAX, CreateProduct, Product
from apps.catalog.domain.reservations import Reservation, ReserveLine, ReserveStock
from servicekit.schemas import Schema


class ProductCreate(Schema):
    sku: str = Field(max_length=200)
    name: str = Field(max_length=NAME_MAX * 2)
    price: StrictInt | StrictFloat
    stock: StrictInt

    def command(self, idempotency_key: str | None = None) -> CreateProduct:
        # str() first: a JSON number such as 12.5 parses to a float, and str gives its shortest exact form.
        return CreateProduct(self.sku, self.name, Decimal(str(self.price)), self.stock, idempotency_key)


class ProductRead(Schema):
    id: str
    sku: str
    name: str
    price: float
    stock: int

    @classmethod
    def of(cls, product: Product) -> ProductRead:
        return cls(id=product.id, sku=product.sku, name=product.name, price=float(product.price), stock=product.stock)


class ProductList(Schema):
    items: list[ProductRead]
    total: int


class ReserveItem(Schema):
    product_id: str = Field(min_length=1, max_length=200)
    # Not StrictInt: a fractional quantity must be answered with INVALID_QUANTITY, which the domain decides.
    quantity: StrictInt | StrictFloat


class ReservationCreate(Schema):
    order_id: str = Field(pattern=ID.pattern)
    items: list[ReserveItem] = Field(max_length=200)

    def command(self) -> ReserveStock:
        lines = [ReserveLine(item.product_id, item.quantity) for item in self.items]
        return ReserveStock(self.order_id, lines)


class ReservationItemRead(Schema):
    product_id: str
    name: str
    unit_price: float
    quantity: int


class ReservationRead(Schema):
    order_id: str
    status: str
    items: list[ReservationItemRead]
    total: float

    @classmethod
    def of(cls, reservation: Reservation) -> ReservationRead:
        items = [
            ReservationItemRead(
                product_id=i.product_id, name=i.name, unit_price=float(i.unit_price), quantity=i.quantity
            )
            for i in reservation.items
        ]
        return cls(
            order_id=reservation.order_id,
            status=reservation.status.value,
            items=items,
            total=float(reservation.total),
        )
