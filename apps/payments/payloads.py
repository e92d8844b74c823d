"""The event payloads payments reads (docs/events.md), parsed strictly enough to refuse bad ones."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel

from apps.payments.domain import to_money
from servicekit import EventEnvelope, ValidationFailed


def _money(value: object) -> Decimal:
    # Amounts are JSON numbers; a string or a bool is a producer bug worth a dead letter.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    amount = Decimal(str(value))
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a non-negative amount")
    return to_money(amount)


Money = Annotated[Decimal, PlainValidator(_money)]
Id = Annotated[str, Field(min_length=1, max_length=200)]


class Payload(BaseModel):
    """A tolerant reader: unknown fields are ignored, known ones must have the contract's types."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


class OrderCreated(Payload):
    order_id: Id
    user_id: Id
    total: Money
    items: list[dict[str, Any]]
    payment_token: str


class OrderClosed(Payload):
    """`order.cancelled` (with a reason) and `order.expired`."""

    order_id: Id
    user_id: Id
    total: Money
    reason: str | None = None


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
