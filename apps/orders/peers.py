"""The services orders calls synchronously, through its sidecar: identity over gRPC, catalog over HTTP."""

from __future__ import annotations

from typing import Any, Protocol

from apps.orders.domain import RequestedLine
from junction.identity.v1 import users_pb2, users_pb2_grpc
from servicekit import SidecarClient
from servicekit.grpc_client import MeshChannel


class OrderPeers(Protocol):
    async def ensure_user(self, user_id: str) -> None: ...
    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]: ...
    async def commit(self, order_id: str) -> None: ...
    async def release(self, order_id: str) -> None: ...


class DaprOrderPeers:
    def __init__(self, sidecar: SidecarClient, mesh: MeshChannel, *, identity_app_id: str, catalog_app_id: str) -> None:
        self.sidecar = sidecar
        self.mesh = mesh
        self.users_stub = users_pb2_grpc.UsersStub(mesh.channel)
        self.identity_app_id = identity_app_id
        self.catalog_app_id = catalog_app_id

    async def ensure_user(self, user_id: str) -> None:
        """Raise USER_NOT_FOUND (404) unless identity knows the user: Users.ValidateUser, proxied by the sidecar.

        A bad id is INVALID_USER_ID (422); identity down is a 503, out of time a 504 (servicekit.grpc_errors).
        """
        await self.mesh.call(
            self.users_stub.ValidateUser, users_pb2.ValidateUserRequest(user_id=user_id), app_id=self.identity_app_id
        )

    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]:
        items = [{"productId": line.product_id, "quantity": line.quantity} for line in lines]
        reservation: dict[str, Any] = await self.sidecar.invoke(
            self.catalog_app_id, "POST", "/reservations", json={"orderId": order_id, "items": items}
        )
        return reservation

    async def commit(self, order_id: str) -> None:
        await self.sidecar.invoke(self.catalog_app_id, "POST", f"/reservations/{order_id}/commit")

    async def release(self, order_id: str) -> None:
        await self.sidecar.invoke(self.catalog_app_id, "POST", f"/reservations/{order_id}/release")
