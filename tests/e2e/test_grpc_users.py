"""S4's gRPC path through real sidecars: a caller dials its OWN sidecar's gRPC port with `dapr-app-id:
identity`, Dapr proxies the call to identity's sidecar (mTLS, access control by full method name) and
on to identity's gRPC server; the status that comes back is translated where it surfaces
(NOT_FOUND -> 404, INVALID_ARGUMENT -> 422, UNAVAILABLE -> 503, DEADLINE_EXCEEDED -> 504).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import grpc
import httpx
import jwt
import pytest

from junction.identity.v1 import users_pb2, users_pb2_grpc
from servicekit.grpc_errors import CODE_KEY
from servicekit.tokens import AUDIENCE, ISSUER, SIGNING_KEY_SECRET
from tests.e2e.conftest import Account
from tests.e2e.test_identity_flow import assert_error
from tools.stack import Stack
from tools.stack.processes import wait_for

# Orders' placing budget (15 s) bounds an order whose user check fails; add room for a slow machine.
BOUND_SECONDS = 15.0
VALIDATE = "/junction.identity.v1.Users/ValidateUser"


def _users(stack: Stack, via: str) -> Iterator[tuple[users_pb2_grpc.UsersStub, tuple[tuple[str, str], ...]]]:
    """Users through `via`'s own sidecar, with `via`'s own Dapr API token, as that app's code calls it."""
    app = stack.apps[via]
    with grpc.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
        yield users_pb2_grpc.UsersStub(channel), (("dapr-app-id", "identity"), ("dapr-api-token", app.dapr_token))


@pytest.fixture
def as_orders(stack: Stack) -> Iterator[tuple[users_pb2_grpc.UsersStub, tuple[tuple[str, str], ...]]]:
    yield from _users(stack, "orders")


def _token_for(stack: Stack, subject: str) -> dict[str, str]:
    """A validly signed access token for a subject identity never issued (the key is the run's own)."""
    key = json.loads((stack.run_dir / "secrets.json").read_text())[SIGNING_KEY_SECRET]
    now = int(time.time())
    claims = {"sub": subject, "email": "x@example.com", "role": "customer", "iss": ISSUER, "aud": AUDIENCE}
    token = jwt.encode({**claims, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}, key, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def _order(gateway: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    body = {"items": [{"productId": uuid.uuid4().hex, "quantity": 1}], "paymentMethod": {"token": "tok_ok"}}
    return gateway.post("/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})


def test_orders_validates_a_known_user_through_the_sidecars(
    as_orders: tuple[users_pb2_grpc.UsersStub, tuple[tuple[str, str], ...]], account: Account
) -> None:
    stub, metadata = as_orders
    answer = stub.ValidateUser(users_pb2.ValidateUserRequest(user_id=account.user_id), metadata=metadata, timeout=10)
    assert (answer.user_id, answer.role) == (account.user_id, "customer")


def test_an_unknown_user_is_not_found_over_grpc_and_a_404_at_the_edge(
    as_orders: tuple[users_pb2_grpc.UsersStub, tuple[tuple[str, str], ...]], gateway: httpx.Client, stack: Stack
) -> None:
    stub, metadata = as_orders
    with pytest.raises(grpc.RpcError) as raw:
        stub.ValidateUser(users_pb2.ValidateUserRequest(user_id=uuid.uuid4().hex), metadata=metadata, timeout=10)
    assert raw.value.code() == grpc.StatusCode.NOT_FOUND
    # The stubs type the entries as _Metadatum objects; at run time they are (key, value) namedtuples.
    assert (CODE_KEY, "USER_NOT_FOUND") in raw.value.trailing_metadata()  # type: ignore[comparison-overlap]
    stranger = _token_for(stack, uuid.uuid4().hex)
    assert assert_error(gateway.get("/users/me", headers=stranger), 404)["error"]["code"] == "USER_NOT_FOUND"  # type: ignore[index]
    placed = _order(gateway, stranger)  # orders -> identity (gRPC) -> 404, before any stock is touched
    assert assert_error(placed, 404)["error"]["code"] == "USER_NOT_FOUND"  # type: ignore[index]


def test_an_id_that_cannot_be_one_is_invalid_argument_and_a_422(
    as_orders: tuple[users_pb2_grpc.UsersStub, tuple[tuple[str, str], ...]], gateway: httpx.Client, stack: Stack
) -> None:
    stub, metadata = as_orders
    with pytest.raises(grpc.RpcError) as raw:
        stub.ValidateUser(users_pb2.ValidateUserRequest(user_id="not an id"), metadata=metadata, timeout=10)
    assert raw.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    odd = _token_for(stack, "not an id")
    assert assert_error(gateway.get("/users/me", headers=odd), 422)["error"]["code"] == "INVALID_USER_ID"  # type: ignore[index]
    assert assert_error(_order(gateway, odd), 422)["error"]["code"] == "INVALID_USER_ID"  # type: ignore[index]


def test_only_the_intended_callers_reach_the_grpc_methods(stack: Stack, account: Account) -> None:
    """identity's sidecar names gRPC methods in its accessControl: orders validates, the gateway reads."""
    request = users_pb2.ValidateUserRequest(user_id=account.user_id)
    for caller in ("gateway", "catalog", "payments", "probe"):
        for stub, metadata in _users(stack, caller):
            with pytest.raises(grpc.RpcError) as raw:
                stub.ValidateUser(request, metadata=metadata, timeout=10)
            assert raw.value.code() == grpc.StatusCode.PERMISSION_DENIED, caller
    for stub, metadata in _users(stack, "orders"):
        with pytest.raises(grpc.RpcError) as raw:
            stub.GetUser(users_pb2.GetUserRequest(user_id=account.user_id), metadata=metadata, timeout=10)
        assert raw.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for stub, metadata in _users(stack, "gateway"):
        user = stub.GetUser(users_pb2.GetUserRequest(user_id=account.user_id), metadata=metadata, timeout=10)
        assert user.id == account.user_id
    for stub, _ in _users(stack, "orders"):  # the proxy wants the caller's own sidecar token too
        with pytest.raises(grpc.RpcError) as raw:
            stub.ValidateUser(request, metadata=(("dapr-app-id", "identity"),), timeout=10)
        assert raw.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _back(gateway: httpx.Client, account: Account) -> None:
    # The breaker towards identity may have opened on the failures (3 s); then a trial call closes it.
    wait_for(
        lambda: gateway.get("/users/me", headers=account.auth).status_code == 200,
        timeout=60,
        interval=1.0,
        what="the gateway to reach identity again",
    )


def test_identity_down_is_a_503_within_the_budget(gateway: httpx.Client, stack: Stack, account: Account) -> None:
    stack.kill_app("identity")  # its sidecar stays up: the proxied call finds no app behind it
    try:
        started = time.monotonic()
        placed = _order(gateway, account.auth)
        elapsed = time.monotonic() - started
        assert assert_error(placed, 503)["error"]["code"] == "SERVICE_UNAVAILABLE"  # type: ignore[index]
        assert elapsed < BOUND_SECONDS, elapsed
    finally:
        stack.restart("identity")
    _back(gateway, account)


def test_identity_out_of_time_is_a_504(gateway: httpx.Client, stack: Stack, account: Account) -> None:
    stack.pause_app("identity")  # connected, answering nothing: every attempt runs into its timeout
    try:
        started = time.monotonic()
        answer = gateway.get("/users/me", headers=account.auth)
        elapsed = time.monotonic() - started
        body = assert_error(answer, 504)
        assert body["error"]["code"] == "UPSTREAM_TIMEOUT", body  # type: ignore[index]
        assert elapsed < BOUND_SECONDS, elapsed
    finally:
        stack.pause_app("identity", paused=False)
    _back(gateway, account)
