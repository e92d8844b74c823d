"""The gateway's user lookup for /users/me: identity's Users.GetUser over gRPC, through its own sidecar.

The S4 path at the edge: a gRPC status from identity (or its sidecar) becomes the kit's error
(servicekit.grpc_errors: NOT_FOUND -> 404, INVALID_ARGUMENT -> 422, UNAVAILABLE -> 503,
DEADLINE_EXCEEDED -> 504), which `Peers.profile` logs and relays as `public_error`, like every other peer's.
"""

from __future__ import annotations

from typing import Any, Protocol

from junction.identity.v1 import users_pb2, users_pb2_grpc
from servicekit.grpc_client import MeshChannel


class UserLookup(Protocol):
    async def profile(self, user_id: str) -> dict[str, Any]: ...


class GrpcUserLookup:
    def __init__(self, mesh: MeshChannel, *, identity_app_id: str) -> None:
        self.mesh = mesh
        self.identity_app_id = identity_app_id
        self._stub = users_pb2_grpc.UsersStub(mesh.channel)

    async def profile(self, user_id: str) -> dict[str, Any]:
        """The user's profile as the public API shows it (UserRead); a failure raises the kit's error."""
        user = await self.mesh.call(
            self._stub.GetUser, users_pb2.GetUserRequest(user_id=user_id), app_id=self.identity_app_id
        )
        return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
