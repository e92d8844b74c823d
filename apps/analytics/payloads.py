"""The event payloads analytics reads (docs/events.md): only what it counts must be there and well typed."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel

from apps.analytics.domain import OrderStatus
from servicekit import EventEnvelope, ValidationFailed


def _money(value: object) -> Decimal:
    # Amounts are JSON numbers; a string or a bool is a producer bug worth a dead letter.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    amount = Decimal(str(value))
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a non-negative amount")
    return amount


Money = Annotated[Decimal, PlainValidator(_money)]
Id = Annotated[str, Field(min_length=1, max_length=200)]


class Payload(BaseModel):
    """A tolerant reader: unknown fields are ignored, the ones it needs must have the contract's types."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


class UserRegistered(Payload):
    user_id: Id


class StockChanged(Payload):
    product_id: Id


class OrderFact(Payload):
    """`order.created`, `order.confirmed` and `order.expired`."""

    order_id: Id
    total: Money


class OrderCancelled(OrderFact):
    previous_status: Literal["PENDING_PAYMENT", "CONFIRMED"]

    @property
    def previous(self) -> OrderStatus:
        return OrderStatus(self.previous_status)


class PaymentFact(Payload):
    payment_id: Id
    order_id: Id


class TenantFact(Payload):
    tenant_id: Id


P = TypeVar("P", bound=Payload)


def parse(model: type[P], event: EventEnvelope) -> P:
    """Read an event's payload or raise ValidationFailed, which sends the event to the dead letters."""
    try:
        return model.model_validate(event.payload)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise ValidationFailed(
            f"The {model.__name__} payload is not valid.", code="INVALID_PAYLOAD", details=details
        ) from exc
