"""The public request shapes; the gateway validates them before any call crosses the mesh."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PublicSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(PublicSchema):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=100)


class LoginRequest(PublicSchema):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class ProductCreate(PublicSchema):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    price: float = Field(gt=0, le=1_000_000)
    stock: int = Field(ge=0, le=1_000_000)


class OrderLine(PublicSchema):
    product_id: str = Field(alias="productId", min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1000)


class PaymentMethod(PublicSchema):
    token: str = Field(min_length=1, max_length=64)


class OrderCreate(PublicSchema):
    items: list[OrderLine] = Field(min_length=1, max_length=50)
    payment_method: PaymentMethod = Field(alias="paymentMethod")


class ReplayRequest(PublicSchema):
    payload: dict[str, Any] | None = None


class TenantCreate(PublicSchema):
    name: str = Field(min_length=1, max_length=400)
    subdomain: str = Field(min_length=1, max_length=63)
    admin_email: str = Field(alias="adminEmail", min_length=3, max_length=320)
    admin_password: str = Field(alias="adminPassword", min_length=1, max_length=128)
