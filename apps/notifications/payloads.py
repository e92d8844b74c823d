"""The event payloads notifications reads (docs/events.md), parsed strictly enough to refuse bad ones."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from servicekit.payloads import Id, Money
from servicekit.payloads import Payload as EventPayload

Code = Annotated[str, Field(min_length=1, max_length=100)]


class Payload(EventPayload):
    """Every event notifications reads names the user it is for."""

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
