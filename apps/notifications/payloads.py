"""The event payloads notifications reads (docs/events.md), parsed strictly enough to refuse bad ones."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel

from servicekit import EventEnvelope, ValidationFailed


def _money(value: object) -> Decimal:
    # Amounts are JSON numbers; a string or a bool is a producer bug worth a dead letter.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    return amount


Money = Annotated[Decimal, PlainValidator(_money)]
Id = Annotated[str, Field(min_length=1, max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=100)]


class Payload(BaseModel):
    """A tolerant reader: unknown fields are ignored, the ones used must be there with the contract's types."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)

    user_id: Id


class UserRegistered(Payload):
    name: Annotated[str, Field(min_length=1, max_length=200)]


class OrderFact(Payload):
    """`order.created`, `order.confirmed` and `order.expired`."""

    order_id: Id
    total: Money


class OrderCancelled(OrderFact):
    reason: Code


class PaymentSucceeded(Payload):
    order_id: Id
    amount: Money


class PaymentFailed(PaymentSucceeded):
    reason: Code


class TenantFact(Payload):
    """`tenant.provisioned` and `tenant.provisioning_failed`: `userId` is the platform admin who asked."""

    tenant_id: Id
    subdomain: Annotated[str, Field(min_length=1, max_length=63)]
    name: Annotated[str, Field(min_length=1, max_length=200)]


class TenantProvisioned(TenantFact):
    tables_created: list[Annotated[str, Field(min_length=1, max_length=200)]]


class TenantProvisioningFailed(TenantFact):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


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
