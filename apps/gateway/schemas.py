"""The public shapes: requests, validated before any call crosses the mesh, and the answers in their envelope."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class PublicSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def owner_checks(**schema: Any) -> dict[str, Any]:
    """Document a rule the owning service checks (so it refuses with its own code: INVALID_SKU, ...)."""
    return schema


EMAIL = owner_checks(format="email")


class RegisterRequest(PublicSchema):
    email: str = Field(min_length=3, max_length=320, json_schema_extra=EMAIL)
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=100)


class LoginRequest(PublicSchema):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class ProductCreate(PublicSchema):
    sku: str = Field(min_length=1, max_length=64, json_schema_extra=owner_checks(pattern=r"^[A-Za-z0-9._-]{1,64}$"))
    name: str = Field(min_length=1, max_length=200)
    price: float = Field(gt=0, le=1_000_000, json_schema_extra=owner_checks(multipleOf=0.01))
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
    subdomain: str = Field(
        min_length=1, max_length=63, json_schema_extra=owner_checks(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    )
    admin_email: str = Field(alias="adminEmail", min_length=3, max_length=320, json_schema_extra=EMAIL)
    admin_password: str = Field(
        alias="adminPassword", min_length=1, max_length=128, json_schema_extra=owner_checks(minLength=8)
    )


# ---- responses: documented for clients and the fuzzer; the routes answer them through `ok` -------------
DataT = TypeVar("DataT")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    """Every refusal and failure: a stable code, a message, the HTTP status again, the request id and trace id."""

    success: Literal[False]
    error: ErrorBody
    status_code: int = Field(alias="statusCode")
    request_id: str = Field(alias="requestId")
    trace_id: str | None = Field(
        None,
        alias="traceId",
        description="The request's trace in the trace backend (32 hex digits); null when tracing is off.",
    )
    timestamp: str


class Envelope(BaseModel, Generic[DataT]):
    """Every success: the data, the request id and when it was answered."""

    success: Literal[True]
    data: DataT
    request_id: str = Field(alias="requestId")
    timestamp: str
    stale: Literal[True] | None = Field(
        None,
        description="Present, and true, only on a cached copy served because its owner did not answer "
        "(X-Cache: STALE): it may be out of date.",
    )


class PublicRead(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class UserRead(PublicRead):
    id: str
    email: str
    name: str
    role: Literal["customer", "admin"]


class TokenRead(PublicRead):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


class ProductRead(PublicRead):
    id: str
    sku: str
    name: str
    price: float
    stock: int


class ProductList(PublicRead):
    items: list[ProductRead]
    total: int


class OrderLineRead(PublicRead):
    product_id: str
    name: str
    unit_price: float
    quantity: int


class OrderRead(PublicRead):
    id: str
    user_id: str
    status: Literal["PENDING_PAYMENT", "CONFIRMED", "CANCELLED", "EXPIRED"]
    total: float
    items: list[OrderLineRead]
    created_at: str
    updated_at: str
    expires_at: str
    payment_id: str | None
    cancel_reason: str | None


class OrderList(PublicRead):
    items: list[OrderRead]
    total: int


class PaymentRead(PublicRead):
    id: str
    order_id: str
    amount: float
    status: str
    reason: str | None


class PaymentList(PublicRead):
    items: list[PaymentRead]
    """Zero or one payment: an order is charged once."""


class NotificationRead(PublicRead):
    id: str
    type: str
    message: str
    created_at: str
    order_id: str | None


class NotificationList(PublicRead):
    items: list[NotificationRead]
    total: int


class ReportSummary(PublicRead):
    orders_by_status: dict[str, int]
    revenue: float
    registrations: int
    event_counts: dict[str, int]


class TenantRead(PublicRead):
    id: str
    name: str
    subdomain: str
    admin_email: str
    status: Literal["PROVISIONING", "ACTIVE", "FAILED"]
    step: str
    reason: str | None
    tables_created: list[str]
    database_url: str
    requested_by: str
    created_at: str
    updated_at: str
    attempts: int


class TenantList(PublicRead):
    items: list[TenantRead]
    total: int


class DeadLetterRead(PublicRead):
    id: str
    received_at: str
    original_topic: str | None
    event_id: str | None
    status: str
    replays: int
    replayed_at: str | None
    subscriber: str | None
    replay_of: str | None
    failed_again_as: str | None
    cloud_event: Any


class DeadLetterList(PublicRead):
    items: list[DeadLetterRead]
    total: int


class SectionError(BaseModel):
    code: str
    message: str


class Section(BaseModel):
    """One part of an aggregated view: its data, or why its service did not answer."""

    status: Literal["ok", "unavailable"]
    data: Any = None
    error: SectionError | None = None


class Dashboard(PublicRead):
    products: Section
    orders: Section
    reports: Section
    dead_letters: Section


_STATUSES: dict[int, str] = {
    400: "The body is not JSON, or the Idempotency-Key header is not 1 to 128 printable ASCII characters.",
    401: "No valid bearer token (or, to sign in, wrong credentials).",
    403: "The token's role may not do this (admin only).",
    404: "No such resource, or one the caller may not see.",
    409: "The request clashes with the resource's state (taken, out of stock, not cancellable, ...).",
    413: "The request body is larger than the gateway accepts.",
    422: "A field, parameter or value is not valid; `details` names it.",
    424: "Carried out, but it ended in a recorded failure (the resource says why).",
    429: "Too many requests from this client; retry after `Retry-After` seconds.",
    503: "A service behind the gateway did not answer; safe to retry.",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the error envelope under each status a route may answer, besides 429 and 503 (every route)."""
    return {
        status: {"model": ErrorEnvelope, "description": _STATUSES[status]} for status in sorted({*statuses, 429, 503})
    }


def link(method: str, path: str, description: str, **spec: Any) -> dict[str, Any]:
    """An OpenAPI link to another operation of the public API (`parameters`, `requestBody` as in the spec)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "description": description, **spec}


class GatewayStatusRead(PublicRead):
    """For anyone: `degraded` when the registry marks a service down, and how many are up and down."""

    status: Literal["ok", "degraded"]
    services_up: int
    services_down: int


class BreakerRead(PublicRead):
    """The gateway's view of its sidecar's breaker towards a service: what its calls last met."""

    state: Literal["closed", "open"]
    changed_at: str | None = None


class RegisteredServiceRead(PublicRead):
    name: str
    route_prefixes: list[str]
    state: Literal["up", "down"]
    """`down`: its routes answer 503 at once, without a call, until a probe sees it ready again."""
    health: Literal["unknown", "ok", "unavailable"]
    """What the last readiness probe said."""
    last_seen: str | None = None
    """When it last answered a probe or a call."""
    last_checked: str | None = None
    consecutive_failures: int
    last_error: str | None = None
    breaker: BreakerRead


class RegisteredServiceList(PublicRead):
    items: list[RegisteredServiceRead]
