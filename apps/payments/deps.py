"""What payments' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.payments.peers import PaymentProvider
from apps.payments.storage import PaymentRepository
from servicekit.deps import services_of


@dataclass(frozen=True)
class PaymentsServices:
    payments: PaymentRepository
    provider: PaymentProvider


Services = Annotated[PaymentsServices, Depends(services_of(PaymentsServices))]
