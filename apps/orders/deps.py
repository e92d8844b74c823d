"""What orders' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from apps.orders.peers import OrderPeers
from apps.orders.service import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class OrdersServices:
    uow: UnitOfWorkFactory
    peers: OrderPeers
    clock: Clock
    payment_timeout: timedelta
    expiry_batch: int


def _services(request: Request) -> OrdersServices:
    services: OrdersServices = request.app.state.services
    return services


Services = Annotated[OrdersServices, Depends(_services)]
