"""The services orders calls synchronously, through its sidecar: identity over gRPC, catalog over HTTP.

identity's answer about a user is read through a cache in orders' own state store (servicekit.read_cache):
a user identity confirmed within USER_CACHE_FRESH_SECONDS is not asked about again, and one it confirmed
within USER_CACHE_TTL_SECONDS is accepted while identity does not answer. Stock is never read from a cache:
every reservation asks catalog.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from apps.orders.domain import RequestedLine
from junction.identity.v1 import users_pb2, users_pb2_grpc
from servicekit import SidecarClient
from servicekit.grpc_client import MeshChannel
from servicekit.read_cache import CachedReads, CacheKey, key_part, read_through


class OrderPeers(Protocol):
    async def ensure_user(self, user_id: str) -> None: ...
    async def reserve(self, order_id: str, lines: tuple[RequestedLine, ...]) -> dict[str, Any]: ...
    async def commit(self, order_id: str) -> None: ...
    async def release(self, order_id: str) -> None: ...


class UserValidator(Protocol):
    async def validate(self, user_id: str) -> dict[str, Any]:
        """identity's answer about a user (`{"userId", "role"}`); a refusal or a failure raises the kit's error."""
        ...


class GrpcUserValidator:
    """identity's Users.ValidateUser over gRPC, proxied by orders' own sidecar (servicekit.grpc_client)."""

    def __init__(self, mesh: MeshChannel, *, identity_app_id: str) -> None:
        self.mesh = mesh
        self.identity_app_id = identity_app_id
        self._stub = users_pb2_grpc.UsersStub(mesh.channel)

    async def validate(self, user_id: str) -> dict[str, Any]:
        """A bad id is INVALID_USER_ID (422), no such user USER_NOT_FOUND (404); identity down (or its breaker
        open) a 503, out of time a 504 (servicekit.grpc_errors)."""
        request = users_pb2.ValidateUserRequest(user_id=user_id)
        answer = await self.mesh.call(self._stub.ValidateUser, request, app_id=self.identity_app_id)
        return {"userId": answer.user_id, "role": answer.role}


def user_key(user_id: str) -> CacheKey:
    """Where identity's confirmation of a user is kept. No change marks: identity publishes no change of a user
    (`user.registered` only; no account is edited or deleted), so the fresh window alone bounds its age."""
    return CacheKey(f"user:{key_part(user_id)}")


class DaprOrderPeers:
    def __init__(
        self,
        sidecar: SidecarClient,
        users: UserValidator,
        *,
        catalog_app_id: str,
        user_reads: CachedReads | None = None,
    ) -> None:
        self.sidecar = sidecar
        self.users = users
        self.catalog_app_id = catalog_app_id
        self.user_reads = user_reads or CachedReads()

    async def ensure_user(self, user_id: str) -> None:
        """Raise USER_NOT_FOUND (404) unless identity knows the user, or confirmed it recently (see above).

        While identity does not answer (a 503, a 504, its breaker open), a user it confirmed before is accepted
        from the cache (logged, counted as `stale` in junction_cached_reads_total{cache="users"}); any other
        gets that failure. A refusal (404, 422) is never kept: the next order asks identity again.
        """
        await read_through(user_key(user_id), partial(self.users.validate, user_id), reads=self.user_reads)

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
