"""What payments' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from apps.payments.storage import PaymentStore


@dataclass(frozen=True)
class PaymentsServices:
    payments: PaymentStore


def _services(request: Request) -> PaymentsServices:
    services: PaymentsServices = request.app.state.services
    return services


Services = Annotated[PaymentsServices, Depends(_services)]
