"""Reading event payloads: tolerant of fields a consumer does not use, strict about the ones it does."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel

from servicekit.errors import ValidationFailed, field_problems
from servicekit.events import EventEnvelope

CENT = Decimal("0.01")


def _money(value: object) -> Decimal:
    # Amounts are JSON numbers; a string or a bool is a producer bug worth a dead letter.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    amount = Decimal(str(value))
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a non-negative amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


Money = Annotated[Decimal, PlainValidator(_money)]
"""A non-negative JSON number, read as a Decimal with two places."""
Id = Annotated[str, Field(min_length=1, max_length=200)]


class InvalidPayload(ValidationFailed):
    """Raised when an event's payload does not fit the consumer's model; the consumer drops the event."""

    default_code = "INVALID_PAYLOAD"


class Payload(BaseModel):
    """Base of a consumer's payload models: unknown fields are ignored, known ones must have their types."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


P = TypeVar("P", bound=Payload)


def parse_payload(model: type[P], event: EventEnvelope) -> P:
    """Read an event's payload or raise InvalidPayload, which sends the event to the dead letters."""
    try:
        return model.model_validate(event.payload)
    except ValidationError as exc:
        message = f"The {model.__name__} payload is not valid."
        raise InvalidPayload(message, details=field_problems(exc.errors())) from exc
