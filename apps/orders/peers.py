"""The services orders calls synchronously, through its sidecar."""

from __future__ import annotations

from typing import Any, Protocol

from apps.orders.domain import RequestedLine
from servicekit import SidecarClient


class OrderPeers(Protocol):
    async def ensure_user(self, user_id: str) -> None: ...
    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]: ...
    async def commit(self, order_id: str) -> None: ...
    async def release(self, order_id: str) -> None: ...


class DaprOrderPeers:
    def __init__(self, sidecar: SidecarClient, *, identity: str, catalog: str) -> None:
        self.sidecar = sidecar
        self.identity = identity
        self.catalog = catalog

    async def ensure_user(self, user_id: str) -> None:
        """Raise USER_NOT_FOUND (404) unless identity knows the user."""
        await self.sidecar.invoke(self.identity, "GET", f"/users/{user_id}")

    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]:
        items = [{"productId": line.product_id, "quantity": line.quantity} for line in lines]
        reservation: dict[str, Any] = await self.sidecar.invoke(
            self.catalog, "POST", "/reservations", json={"orderId": order_id, "items": items}
        )
        return reservation

    async def commit(self, order_id: str) -> None:
        await self.sidecar.invoke(self.catalog, "POST", f"/reservations/{order_id}/commit")

    async def release(self, order_id: str) -> None:
        await self.sidecar.invoke(self.catalog, "POST", f"/reservations/{order_id}/release")
