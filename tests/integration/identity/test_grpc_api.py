"""identity's gRPC edge on a real in-process grpc.aio server, over fake storage, called the way orders does.

The call goes through servicekit.grpc_client.MeshChannel (here straight at the server, where in the
mesh it is the caller's sidecar), so the status codes, the `junction-code` trailer, the token check
and the client's mapping back to the error tree are all the real ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

import grpc
import pytest
from grpc import aio

from apps.identity.api.grpc import UsersServicer
from apps.identity.deps import IdentityServices
from apps.identity.domain import Role, User
from apps.identity.storage import UnitOfWork, UserRepository
from junction.identity.v1 import users_pb2, users_pb2_grpc
from servicekit import DependencyUnavailable, EventEnvelope, JunctionError, NotFound, ValidationFailed
from servicekit.grpc_client import MeshChannel
from servicekit.grpc_serve import SidecarTokenInterceptor
from servicekit.tokens import TokenCodec

APP_TOKEN = "app-token-of-identity"
ADA = User("a" * 32, "ada@example.com", "Ada", Role.CUSTOMER, "hash", datetime(2026, 1, 1, tzinfo=UTC))


class FakeUsers:
    def __init__(self, *users: User) -> None:
        self.by = {user.id: user for user in users}

    async def add(self, user: User) -> None:
        self.by[user.id] = user

    async def by_email(self, email: str) -> User | None:
        return next((user for user in self.by.values() if user.email == email), None)

    async def by_id(self, user_id: str) -> User | None:
        return self.by.get(user_id)


class FakeUnitOfWork:
    def __init__(self, users: FakeUsers) -> None:
        self.users: UserRepository = users

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def record(self, topic: str, event: EventEnvelope) -> None:
        raise AssertionError("a lookup records nothing")

    async def commit(self) -> None:
        return None


if TYPE_CHECKING:  # the async stub exists only in the type stubs (mypy-protobuf); at run time it is UsersStub
    from junction.identity.v1.users_pb2_grpc import UsersAsyncStub

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serving(*, token: str | None = APP_TOKEN) -> AsyncIterator[tuple[UsersAsyncStub, MeshChannel]]:
    """identity's servicer on a real server, and a MeshChannel to it that sends `token`."""
    users = FakeUsers(ADA)
    services = IdentityServices(uow=lambda: FakeUnitOfWork(users), tokens=TokenCodec("k" * 32))
    server = aio.server(interceptors=[SidecarTokenInterceptor(APP_TOKEN)])
    users_pb2_grpc.add_UsersServicer_to_server(UsersServicer(lambda: services), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    mesh = MeshChannel.open(grpc_port=port, api_token=token, deadline_seconds=5)
    try:
        yield users_pb2_grpc.UsersStub(mesh.channel), mesh
    finally:
        await mesh.aclose()
        await server.stop(None)


async def test_validate_and_get_answer_a_known_user() -> None:
    async with serving() as (stub, mesh):
        valid = await mesh.call(stub.ValidateUser, users_pb2.ValidateUserRequest(user_id=ADA.id), app_id="identity")
        assert (valid.user_id, valid.role) == (ADA.id, "customer")
        user = await mesh.call(stub.GetUser, users_pb2.GetUserRequest(user_id=ADA.id), app_id="identity")
        assert (user.id, user.email, user.name, user.role) == (ADA.id, ADA.email, "Ada", "customer")


async def test_an_unknown_user_is_not_found_with_identitys_code() -> None:
    async with serving() as (stub, mesh):
        with pytest.raises(aio.AioRpcError) as raw:
            await stub.ValidateUser(users_pb2.ValidateUserRequest(user_id="b" * 32), metadata=mesh.metadata("identity"))
        assert raw.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(JunctionError) as caught:
            await mesh.call(stub.ValidateUser, users_pb2.ValidateUserRequest(user_id="b" * 32), app_id="identity")
        assert (type(caught.value), caught.value.status, caught.value.code) == (NotFound, 404, "USER_NOT_FOUND")


@pytest.mark.parametrize("user_id", ["", "not an id", "x" * 65, "../etc"])
async def test_an_id_no_account_can_have_is_invalid_argument(user_id: str) -> None:
    async with serving() as (stub, mesh):
        with pytest.raises(JunctionError) as caught:
            await mesh.call(stub.GetUser, users_pb2.GetUserRequest(user_id=user_id), app_id="identity")
        assert (type(caught.value), caught.value.status, caught.value.code) == (
            ValidationFailed,
            422,
            "INVALID_USER_ID",
        )


@pytest.mark.parametrize("token", [None, "another-apps-token"])
async def test_a_call_without_the_sidecars_token_is_refused(token: str | None) -> None:
    async with serving(token=token) as (stub, mesh):
        with pytest.raises(aio.AioRpcError) as raw:
            await stub.GetUser(users_pb2.GetUserRequest(user_id=ADA.id), metadata=mesh.metadata("identity"))
        assert raw.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(DependencyUnavailable):  # no junction-code: a refusal of the mesh, a 503
            await mesh.call(stub.GetUser, users_pb2.GetUserRequest(user_id=ADA.id), app_id="identity")


async def test_a_dead_peer_is_unavailable_and_a_slow_one_times_out() -> None:
    mesh = MeshChannel.open(grpc_port=1, api_token=APP_TOKEN, deadline_seconds=0.5)  # nobody listens on port 1
    try:
        with pytest.raises(DependencyUnavailable) as caught:
            stub = users_pb2_grpc.UsersStub(mesh.channel)
            await mesh.call(stub.GetUser, users_pb2.GetUserRequest(user_id=ADA.id), app_id="identity")
        assert caught.value.status in (503, 504)
    finally:
        await mesh.aclose()
