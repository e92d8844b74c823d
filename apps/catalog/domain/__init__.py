"""Products and their stock: the pure model, its commands, events and errors. No web, no sidecar.

An order's hold on that stock, and the steps that reserve, commit and release it, are `reservations`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from servicekit import Conflict, NotFound, ValidationFailed
from servicekit.keys import derived_id

SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
NAME_MAX = 200
PRICE_MAX = Decimal(1_000_000)
STOCK_MAX = 1_000_000
CENT = Decimal("0.01")


class ProductNotFound(NotFound):
    """Raised when no product has the id asked for, also when a reservation names one (`details.productId`)."""

    default_code = "PRODUCT_NOT_FOUND"


class SkuTaken(Conflict):
    """Raised when a new product's SKU is already another product's."""

    default_code = "SKU_TAKEN"


class IdempotencyKeyReused(ValidationFailed):
    """Raised when an Idempotency-Key that already created a product comes back with another product."""

    default_code = "IDEMPOTENCY_KEY_REUSED"


class InvalidSku(ValidationFailed):
    """Raised when a new product's SKU is not 1 to 64 letters, digits, `.`, `_` or `-`."""

    default_code = "INVALID_SKU"


class InvalidName(ValidationFailed):
    """Raised when a new product's name is empty or too long once its whitespace is collapsed."""

    default_code = "INVALID_NAME"


class InvalidPrice(ValidationFailed):
    """Raised when a new product's price is not above 0, at most PRICE_MAX, with 2 decimals."""

    default_code = "INVALID_PRICE"


class InvalidStock(ValidationFailed):
    """Raised when a new product's stock is not a whole number from 0 to STOCK_MAX."""

    default_code = "INVALID_STOCK"


class InvalidItems(ValidationFailed):
    """Raised when a reservation has no lines or too many."""

    default_code = "INVALID_ITEMS"


class InvalidQuantity(ValidationFailed):
    """Raised when a reservation line's quantity is not a whole number in range."""

    default_code = "INVALID_QUANTITY"


class OutOfStock(Conflict):
    """Raised when a reservation asks for more of a product than is left (`details.requested`, `.available`)."""

    default_code = "OUT_OF_STOCK"


class ReservationNotFound(NotFound):
    """Raised when no reservation exists for the order id asked for."""

    default_code = "RESERVATION_NOT_FOUND"


class ReservationReleased(Conflict):
    """Raised when a reserve or a commit reaches an order whose reservation was already released."""

    default_code = "RESERVATION_RELEASED"


class StockInconsistent(Conflict):
    """Raised when more units would leave `reserved` than it holds: the stored data broke an invariant."""

    default_code = "STOCK_INCONSISTENT"


class ReservationStatus(StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


class StockReason(StrEnum):
    CREATED = "created"
    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"


@dataclass(frozen=True)
class CreateProduct:
    """Command: put a new product on sale."""

    sku: str
    name: str
    price: Decimal
    stock: int
    idempotency_key: str | None = None
    """The caller's key: a repeat of the same creation names the same product id."""


@dataclass(frozen=True)
class Product:
    id: str
    sku: str
    name: str
    price: Decimal
    stock: int
    """What can still be ordered."""
    reserved: int = 0

    def reserve(self, quantity: int) -> Product:
        """Move units from available stock to reserved."""
        if quantity > self.stock:
            details = {"productId": self.id, "requested": quantity, "available": self.stock}
            raise OutOfStock(f"Only {self.stock} of {self.sku} left.", details=details)
        return replace(self, stock=self.stock - quantity, reserved=self.reserved + quantity)

    def commit(self, quantity: int) -> Product:
        """Let reserved units go for good (the order was paid)."""
        self._check_reserved(quantity)
        return replace(self, reserved=self.reserved - quantity)

    def release(self, quantity: int, *, committed: bool = False) -> Product:
        """Put units back on sale: from reserved, or as goods returned after a commit."""
        if committed:
            return replace(self, stock=self.stock + quantity)
        self._check_reserved(quantity)
        return replace(self, stock=self.stock + quantity, reserved=self.reserved - quantity)

    def _check_reserved(self, quantity: int) -> None:
        if quantity > self.reserved:
            raise StockInconsistent(f"{self.sku} has only {self.reserved} reserved units, not {quantity}.")


@dataclass(frozen=True)
class StockChanged:
    """Event: a product's stock or reserved count moved."""

    product_id: str
    sku: str
    stock: int
    reserved: int
    change: int
    reason: StockReason
    order_id: str | None

    topic = "product.stock_changed"

    @classmethod
    def between(cls, before: Product | None, after: Product, reason: StockReason, order_id: str | None) -> StockChanged:
        change = after.stock - (before.stock if before else 0)
        return cls(after.id, after.sku, after.stock, after.reserved, change, reason, order_id)

    def payload(self) -> dict[str, Any]:
        return {
            "productId": self.product_id,
            "sku": self.sku,
            "stock": self.stock,
            "reserved": self.reserved,
            "change": self.change,
            "reason": self.reason.value,
            "orderId": self.order_id,
        }


def valid_id(candidate: str) -> bool:
    """Ids become state keys, so only a safe alphabet can name a stored thing."""
    return ID.fullmatch(candidate) is not None


def _product_id(command: CreateProduct) -> str:
    """A new id, or the one a creation's Idempotency-Key stands for (the same key, the same product)."""
    if command.idempotency_key is None:
        return uuid.uuid4().hex
    return derived_id(f"product:{command.idempotency_key}")


def new_product(command: CreateProduct) -> tuple[Product, StockChanged]:
    """Check a new product's fields and create it with the event that announces its stock."""
    if SKU.fullmatch(command.sku) is None:
        raise InvalidSku.for_field("sku", "The SKU must have 1 to 64 letters, digits, '.', '_' or '-'.")
    name = " ".join(command.name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidName.for_field("name", f"The name must have 1 to {NAME_MAX} characters.")
    price = command.price
    if not price.is_finite() or not 0 < price <= PRICE_MAX or price != price.quantize(CENT):
        raise InvalidPrice.for_field("price", f"The price must be above 0, at most {PRICE_MAX}, with 2 decimals.")
    if not 0 <= command.stock <= STOCK_MAX:
        raise InvalidStock.for_field("stock", f"The stock must be a whole number from 0 to {STOCK_MAX}.")
    product = Product(_product_id(command), command.sku, name, price.quantize(CENT), command.stock)
    return product, StockChanged.between(None, product, StockReason.CREATED, None)
