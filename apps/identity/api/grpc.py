"""identity's gRPC edge (proto/junction/identity/v1/users.proto): parse -> use case -> message or status."""

from __future__ import annotations

import re
from collections.abc import Callable

from grpc import aio

from apps.identity import service
from apps.identity.deps import IdentityServices
from apps.identity.domain import InvalidUserId
from junction.identity.v1 import users_pb2, users_pb2_grpc
from servicekit.grpc_handling import handling

_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _user_id(value: str) -> str:
    """Refuse, as INVALID_ARGUMENT, an id no account can have (identity's ids are 32 hex digits)."""
    if not _USER_ID.fullmatch(value):
        raise InvalidUserId.for_field("userId", "The user id is not valid.")
    return value


class UsersServicer(users_pb2_grpc.UsersServicer):
    """junction.identity.v1.Users on identity's services, which the lifespan builds."""

    def __init__(self, services: Callable[[], IdentityServices]) -> None:
        self._services = services

    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: aio.ServicerContext[object, object]
    ) -> users_pb2.User:
        async with handling(context, "junction.identity.v1.Users/GetUser"):
            user = await service.get_user(_user_id(request.user_id), uow=self._services().uow)
            return users_pb2.User(id=user.id, email=user.email, name=user.name, role=user.role.value)
        raise AssertionError("handling aborts the call")  # pragma: no cover

    async def ValidateUser(
        self, request: users_pb2.ValidateUserRequest, context: aio.ServicerContext[object, object]
    ) -> users_pb2.ValidateUserResponse:
        async with handling(context, "junction.identity.v1.Users/ValidateUser"):
            user = await service.get_user(_user_id(request.user_id), uow=self._services().uow)
            return users_pb2.ValidateUserResponse(user_id=user.id, role=user.role.value)
        raise AssertionError("handling aborts the call")  # pragma: no cover


def add_services(server: aio.Server, app: object) -> None:
    """Serve Users on `server` with the services `app`'s lifespan put on its state."""
    state = app.state  # type: ignore[attr-defined]
    users_pb2_grpc.add_UsersServicer_to_server(UsersServicer(lambda: state.services), server)
