"""DaprSidecar's SDK side (pub/sub, state, secrets, metadata) against an in-process fake daprd over real gRPC:
what it sends, and how daprd's gRPC failures become the kit's errors (servicekit.sidecar_errors)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from dapr.proto import common_v1

from servicekit import DependencyUnavailable, JunctionError, StateItem, new_event
from servicekit.context import request_id_var
from servicekit.errors import ETagMismatch
from servicekit.sidecar import DaprSidecar, PublishRefused, StateOp
from servicekit.sidecar_errors import PublishFailed, SecretUnavailable, StateUnavailable, publish_error
from tests.integration.servicekit.fakes import Failure, FakeDaprd, Sidecar, fake_sidecar

DAPR_TOKEN = "dapr-token-" + "z" * 16
FIRST_WRITE = common_v1.StateOptions.StateConcurrency.CONCURRENCY_FIRST_WRITE

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def connected(
    *, daprd: FakeDaprd | None = None, timeout_seconds: float = 5.0, request_id: str | None = None
) -> AsyncIterator[tuple[DaprSidecar, Sidecar]]:
    """A DaprSidecar on a fresh fake daprd, used inside a request with `request_id`."""
    async with fake_sidecar(daprd) as fake:
        sidecar = DaprSidecar(
            http_port=fake.http_port, grpc_port=fake.grpc_port, api_token=DAPR_TOKEN, timeout_seconds=timeout_seconds
        )
        token = request_id_var.set(request_id)
        try:
            yield sidecar, fake
        finally:
            request_id_var.reset(token)
            await sidecar.aclose()


def failing(method: str, status: grpc.StatusCode, message: str, reason: str | None = None) -> FakeDaprd:
    return FakeDaprd(failures={method: Failure(status, message, reason)})


# ---- what goes out ----
async def test_publish_sends_the_envelope_with_the_event_id_as_cloudevent_id_and_the_apps_token() -> None:
    event = new_event({"userId": "u-1"})
    request_id = f"req-{uuid.uuid4().hex}"
    async with connected(request_id=request_id) as (sidecar, fake):
        await sidecar.publish("user.registered", event)
        [call] = fake.daprd.called("PublishEvent")
        assert (call.request.pubsub_name, call.request.topic) == ("pubsub", "user.registered")
        assert call.request.data_content_type == "application/json"
        assert dict(call.request.metadata) == {"cloudevent.id": event.event_id, "cloudevent.type": "user.registered"}
        body = json.loads(call.request.data)
        assert (body["eventId"], body["payload"]) == (event.event_id, {"userId": "u-1"})
        assert call.metadata["dapr-api-token"] == DAPR_TOKEN
        assert call.metadata["x-request-id"] == request_id


async def test_publish_cloud_event_sends_it_as_it_is() -> None:
    cloud_event = {"specversion": "1.0", "id": "e-1", "type": "order.created", "source": "orders", "data": {"a": 1}}
    async with connected() as (sidecar, fake):
        await sidecar.publish_cloud_event("deadletters.orders", cloud_event)
        [call] = fake.daprd.called("PublishEvent")
        assert call.request.topic == "deadletters.orders"
        assert call.request.data_content_type == "application/cloudevents+json"
        assert json.loads(call.request.data) == cloud_event
        assert "x-request-id" not in call.metadata  # outside a request


async def test_save_state_with_an_etag_asks_for_first_write_and_without_one_for_nothing() -> None:
    async with connected() as (sidecar, fake):
        await sidecar.save_state("cart-1", {"n": 1}, etag="7")
        await sidecar.save_state("cart-2", [1, 2], store="other")
        guarded, plain = fake.daprd.called("SaveState")
        [item] = guarded.request.states
        assert (guarded.request.store_name, item.key, json.loads(item.value)) == ("statestore", "cart-1", {"n": 1})
        assert item.etag.value == "7" and item.options.concurrency == FIRST_WRITE
        [item] = plain.request.states
        assert (plain.request.store_name, item.key, json.loads(item.value)) == ("other", "cart-2", [1, 2])
        assert not item.HasField("etag") and not item.HasField("options")


async def test_save_state_with_a_ttl_sends_ttl_in_seconds_and_without_one_no_metadata() -> None:
    async with connected() as (sidecar, fake):
        await sidecar.save_state("cache-1", {"n": 1}, ttl_seconds=300)
        await sidecar.save_state("cache-2", {"n": 2})
        expiring, lasting = fake.daprd.called("SaveState")
        assert dict(expiring.request.states[0].metadata) == {"ttlInSeconds": "300"}
        assert dict(lasting.request.states[0].metadata) == {}


async def test_get_state_returns_the_value_and_etag_or_none_for_a_missing_key() -> None:
    daprd = FakeDaprd(state={"cart-1": (b'{"n":3}', "12")})
    async with connected(daprd=daprd) as (sidecar, _):
        found = await sidecar.get_state("cart-1"), await sidecar.get_state("cart-9")
    assert found == (StateItem({"n": 3}, "12"), None)


async def test_a_bulk_read_returns_the_keys_that_exist_with_their_etags_in_one_call() -> None:
    daprd = FakeDaprd(state={"outbox:0": (b'{"pending":[]}', "4"), "outbox:2": (b'{"pending":[1]}', "9")})
    async with connected(daprd=daprd) as (sidecar, fake):
        found = await sidecar.get_bulk_state(["outbox:0", "outbox:1", "outbox:2"])
        [call] = fake.daprd.called("GetBulkState")
    assert found == {"outbox:0": StateItem({"pending": []}, "4"), "outbox:2": StateItem({"pending": [1]}, "9")}
    assert (call.request.store_name, list(call.request.keys)) == ("statestore", ["outbox:0", "outbox:1", "outbox:2"])


async def test_a_bulk_read_with_one_failed_key_fails_whole() -> None:
    daprd = FakeDaprd(state={"outbox:0": (b'{"pending":[]}', "4"), "outbox:1": (b"!", "")})
    async with connected(daprd=daprd) as (sidecar, _):
        with pytest.raises(StateUnavailable):
            await sidecar.get_bulk_state(["outbox:0", "outbox:1"])


async def test_a_transaction_keeps_insert_only_etags_ttls_and_deletes() -> None:
    async with connected() as (sidecar, fake):
        await sidecar.transact(
            [
                StateOp("applied:e-1", {"at": 1}, insert_only=True, ttl_seconds=60),
                StateOp("stock:p-1", {"stock": 4}, etag="3"),
                StateOp("hold:o-1", delete=True),
            ]
        )
        [call] = fake.daprd.called("ExecuteStateTransaction")
        marker, hold, stock = call.request.operations  # in key order
        assert call.request.storeName == "statestore"
        assert (marker.operationType, marker.request.key, json.loads(marker.request.value)) == (
            "upsert",
            "applied:e-1",
            {"at": 1},
        )
        assert dict(marker.request.metadata) == {"ttlInSeconds": "60"}
        assert marker.request.options.concurrency == FIRST_WRITE and not marker.request.HasField("etag")
        assert stock.request.etag.value == "3" and stock.request.options.concurrency == FIRST_WRITE
        assert (hold.operationType, hold.request.key, hold.request.value) == ("delete", "hold:o-1", b"")


async def test_secrets_and_components_come_through_the_sdk() -> None:
    daprd = FakeDaprd(secrets={"jwt-signing-key": {"jwt-signing-key": "s3cret"}})
    async with connected(daprd=daprd) as (sidecar, _):
        assert await sidecar.get_secret("jwt-signing-key") == "s3cret"
        assert await sidecar.components() == [{"name": "statestore", "type": "state.sqlite", "version": "v1"}]
        with pytest.raises(DependencyUnavailable) as missing:
            await sidecar.get_secret("nothing-here")
        assert missing.value.code == "SECRET_UNAVAILABLE"


# ---- how failures come back: the table in servicekit/sidecar_errors.py ----
def _publish(sidecar: DaprSidecar) -> Awaitable[None]:
    return sidecar.publish("user.registered", new_event({}))


def _save(sidecar: DaprSidecar) -> Awaitable[None]:
    return sidecar.save_state("cart-1", {}, etag="7")


def _transact(sidecar: DaprSidecar) -> Awaitable[None]:
    return sidecar.transact([StateOp("applied:e-1", {}, insert_only=True)])


def _get(sidecar: DaprSidecar) -> Awaitable[StateItem | None]:
    return sidecar.get_state("cart-1")


def _secret(sidecar: DaprSidecar) -> Awaitable[str]:
    return sidecar.get_secret("jwt-signing-key")


CALLS: dict[str, tuple[str, Callable[[DaprSidecar], Awaitable[object]]]] = {
    "save": ("SaveState", _save),
    "transact": ("ExecuteStateTransaction", _transact),
    "get": ("GetState", _get),
    "publish": ("PublishEvent", _publish),
    "secret": ("GetSecret", _secret),
}
CLASH = "error while executing state transaction: possible etag mismatch. error from state store"
S = grpc.StatusCode
State, Secret = StateUnavailable, SecretUnavailable
CASES = [
    # What daprd 1.18 answers (pkg/api/grpc, pkg/api/errors: status, ErrorInfo reason), and what the kit makes of it.
    ("save", S.ABORTED, "ERR_STATE_SAVE", "possible etag mismatch", ETagMismatch, "ETAG_MISMATCH"),
    ("save", S.INTERNAL, "ERR_STATE_SAVE", "failed saving state", State, "STATE_UNAVAILABLE"),
    ("transact", S.INTERNAL, "ERR_STATE_TRANSACTION", CLASH, ETagMismatch, "ETAG_MISMATCH"),
    ("transact", S.INTERNAL, "ERR_STATE_TRANSACTION", "database is locked", State, "STATE_UNAVAILABLE"),
    ("get", S.INVALID_ARGUMENT, "DAPR_STATE_NOT_FOUND", "state store x is not found", State, "STATE_UNAVAILABLE"),
    ("get", S.UNAUTHENTICATED, None, "Unauthorized", State, "STATE_UNAVAILABLE"),
    ("publish", S.PERMISSION_DENIED, "DAPR_PUBSUB_FORBIDDEN", "topic not allowed", PublishRefused, "PUBLISH_REFUSED"),
    ("publish", S.INVALID_ARGUMENT, "DAPR_PUBSUB_TOPIC_NAME_EMPTY", "no topic", PublishRefused, "PUBLISH_REFUSED"),
    ("publish", S.INVALID_ARGUMENT, "DAPR_PUBSUB_NOT_FOUND", "pubsub x is not found", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.NOT_FOUND, "DAPR_PUBSUB_TEST_NOT_FOUND", "pubsub x is not found", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.FAILED_PRECONDITION, "DAPR_PUBSUB_NOT_CONFIGURED", "no pubsub", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.INVALID_ARGUMENT, "DAPR_PUBSUB_NAME_EMPTY", "no pubsub name", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.INTERNAL, "DAPR_PUBSUB_PUBLISH_MESSAGE", "broker down", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.UNAVAILABLE, "DAPR_PUBSUB_PUBLISH_MESSAGE", "circuit open", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.UNAUTHENTICATED, None, "Unauthorized", PublishFailed, "PUBLISH_FAILED"),
    ("publish", S.RESOURCE_EXHAUSTED, None, "slow down", PublishFailed, "PUBLISH_FAILED"),
    ("secret", S.INVALID_ARGUMENT, None, "failed finding secret store", Secret, "SECRET_UNAVAILABLE"),
    ("secret", S.PERMISSION_DENIED, "ERR_PERMISSION_DENIED", "denied by policy", Secret, "SECRET_UNAVAILABLE"),
]


@pytest.mark.parametrize(
    ("call", "status", "reason", "message", "kind", "code"),
    CASES,
    ids=[f"{case[0]}-{case[1].name}-{case[2]}" for case in CASES],
)
async def test_a_grpc_failure_becomes_the_kits_error(
    call: str, status: grpc.StatusCode, reason: str | None, message: str, kind: type[JunctionError], code: str
) -> None:
    method, attempt = CALLS[call]
    async with connected(daprd=failing(method, status, message, reason)) as (sidecar, _):
        with pytest.raises(JunctionError) as caught:
            await attempt(sidecar)
    error = caught.value
    assert (type(error), error.code) == (kind, code), error
    if kind is not ETagMismatch:  # Dapr's error, in the shape the gateway keeps inside the mesh
        assert error.details == {"errorCode": reason or status.name, "message": message, "grpcStatus": status.name}


async def test_a_transaction_goes_in_key_order_and_one_keys_operations_keep_theirs() -> None:
    async with connected() as (sidecar, fake):
        await sidecar.transact(
            [
                StateOp("product:b", {"stock": 1}, etag="3"),
                StateOp("outbox:7", {"pending": []}, insert_only=True),
                StateOp("product:a", None, delete=True),
                StateOp("product:a", {"stock": 2}),
            ]
        )
        [call] = fake.daprd.called("ExecuteStateTransaction")
        sent = [(op.request.key, op.operationType) for op in call.request.operations]
        assert sent == [
            ("outbox:7", "upsert"),
            ("product:a", "delete"),
            ("product:a", "upsert"),
            ("product:b", "upsert"),
        ]


async def test_a_stalled_sidecar_is_an_upstream_timeout_within_the_bound() -> None:
    async with connected(timeout_seconds=0.3) as (sidecar, fake):
        fake.daprd.delay_seconds = 5.0
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable) as caught:
            await sidecar.get_state("cart-1")
        assert caught.value.code == "UPSTREAM_TIMEOUT"
        waited = time.monotonic() - started
    assert waited < 1.5


async def test_a_dead_sidecar_fails_at_once_and_a_restarted_one_serves_the_next_call() -> None:
    async with connected() as (sidecar, fake):
        await sidecar.get_state("cart-1")
        await fake.stop_grpc()
        started = time.monotonic()
        for call in (_get, _publish, _secret):
            with pytest.raises(DependencyUnavailable) as caught:
                await call(sidecar)
            assert caught.value.code == "SIDECAR_UNREACHABLE"
        assert time.monotonic() - started < 1.0
        # Long enough for gRPC's reconnect backoff to pass its first second, had the channel been kept.
        await asyncio.sleep(1.5)
        await fake.start_grpc()
        started = time.monotonic()
        assert await sidecar.get_state("cart-1") is None
        assert time.monotonic() - started < 0.5, "the next call waited for gRPC's reconnect backoff"


async def test_a_call_in_flight_outlives_another_call_finding_the_sidecar_gone() -> None:
    # The second call retires the client; the publish already on it gets its answer, not a CancelledError
    # (which grpc.aio raises when a channel closes under a call, and which ended a relay's loop for good).
    daprd = FakeDaprd(
        failures={"GetState": Failure(grpc.StatusCode.UNAVAILABLE, "connection reset")}, delays={"PublishEvent": 0.5}
    )
    async with connected(daprd=daprd) as (sidecar, fake):
        publishing = asyncio.create_task(sidecar.publish("order.created", new_event({"orderId": "o-1"})))
        await asyncio.sleep(0.2)
        with pytest.raises(DependencyUnavailable) as caught:
            await sidecar.get_state("cart-1")
        assert caught.value.code == "SIDECAR_UNREACHABLE"
        await publishing
        assert len(fake.daprd.called("PublishEvent")) == 1
        await sidecar.publish("order.created", new_event({"orderId": "o-2"}))  # on the new client
        assert len(fake.daprd.called("PublishEvent")) == 2


async def test_a_call_that_took_the_client_just_before_it_was_retired_goes_on_the_new_one() -> None:
    daprd = FakeDaprd(failures={"GetState": Failure(grpc.StatusCode.UNAVAILABLE, "connection reset")})
    async with connected(daprd=daprd) as (sidecar, fake):
        retired: list[bool] = []

        async def publish_after_another_call_retired_its_client(dapr: Any) -> Any:
            if not retired:
                retired.append(True)
                with pytest.raises(DependencyUnavailable):
                    await sidecar.get_state("cart-1")  # sees the sidecar gone: retires the client `dapr` came from
                await asyncio.sleep(0.05)  # its channel is closing now
            return await dapr.publish_event("pubsub", "order.created", "{}")

        await sidecar._call(publish_after_another_call_retired_its_client, lambda f: publish_error(f, "order.created"))
        assert len(fake.daprd.called("PublishEvent")) == 1  # sent once, on the new client


async def test_a_call_cut_by_closing_the_sidecar_client_is_a_503_and_so_is_every_call_after() -> None:
    async with connected() as (sidecar, fake):
        fake.daprd.delays["GetState"] = 5.0
        reading = asyncio.create_task(sidecar.get_state("cart-1"))
        await asyncio.sleep(0.2)
        await sidecar.aclose()  # the app shutting down
        for outcome in (reading, sidecar.get_state("cart-1")):
            with pytest.raises(DependencyUnavailable) as caught:
                await outcome
            assert caught.value.code == "SIDECAR_UNREACHABLE"


async def test_no_sdk_client_is_opened_on_a_sidecar_that_is_not_ready() -> None:
    # The SDK's constructor would block the event loop polling health; the kit asks first, without blocking.
    async with connected() as (sidecar, fake):
        fake.set_ready(False)
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable) as caught:
            await sidecar.get_state("cart-1")
        assert caught.value.code == "SIDECAR_UNREACHABLE"
        assert time.monotonic() - started < 1.0
        assert fake.daprd.calls == []
        fake.set_ready(True)
        assert await sidecar.get_state("cart-1") is None


async def test_each_sidecar_client_carries_its_own_apps_token() -> None:
    async with fake_sidecar() as first, fake_sidecar() as second:
        clients = [
            DaprSidecar(http_port=fake.http_port, grpc_port=fake.grpc_port, api_token=token)
            for fake, token in ((first, "token-of-orders"), (second, "token-of-catalog"))
        ]
        try:
            for client in clients:
                await client.wait_until_ready(timeout_seconds=5)
            for client in reversed(clients):
                await client.get_state("k")
        finally:
            for client in clients:
                await client.aclose()
        tokens = [fake.daprd.calls[0].metadata["dapr-api-token"] for fake in (first, second)]
    assert tokens == ["token-of-orders", "token-of-catalog"]
