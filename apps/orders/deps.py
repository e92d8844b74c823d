"""What orders' routes and event handlers receive, built once in the lifespan (main.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from apps.orders.peers import OrderPeers
from apps.orders.service import Timeouts
from apps.orders.service.settlement import UnitOfWorkFactory
from servicekit.clock import Clock
from servicekit.deps import services_of


@dataclass(frozen=True)
class OrdersServices:
    uow: UnitOfWorkFactory
    peers: OrderPeers
    clock: Clock
    timeouts: Timeouts
    expiry_batch: int


Services = Annotated[OrdersServices, Depends(services_of(OrdersServices))]
