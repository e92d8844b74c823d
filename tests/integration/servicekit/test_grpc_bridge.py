"""servicekit.grpc_bridge and grpc_serve: Dapr's AppCallback on a FastAPI app, on a real in-process server.

The calls are the ones daprd makes (dapr 1.18 pkg/channel/grpc): OnInvoke with the verb, query, body
and the caller's headers as metadata plus the app token; HealthCheck without a token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2_grpc
from fastapi import APIRouter, FastAPI
from google.protobuf import any_pb2, empty_pb2
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import BaseModel

from servicekit import NotFound, ServiceSettings, create_service_app, ok
from servicekit.grpc_serve import build_server
from servicekit.health import ReadinessCheck
from tests.unit.servicekit.helpers import sample

pytestmark = pytest.mark.anyio

APP_TOKEN = "app-token"
GRPC_CALLS = "junction_grpc_requests_total"
router = APIRouter()


class Body(BaseModel):
    name: str


@router.post("/things", status_code=201)
async def create(body: Body) -> Any:
    return ok({"name": body.name}, status=201)


@router.get("/things/{thing_id}")
async def read(thing_id: str, detail: str = "short") -> Any:
    if thing_id == "missing":
        raise NotFound("No such thing.", code="THING_NOT_FOUND")
    if thing_id == "crash":
        raise RuntimeError("boom")
    return ok({"id": thing_id, "detail": detail})


async def _gone() -> None:
    raise RuntimeError("the database is gone")


def _app(readiness: Mapping[str, ReadinessCheck] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    settings = ServiceSettings(app_id="thing", app_api_token=APP_TOKEN)
    checks = readiness or {}
    return create_service_app(settings, title="t", lifespan=lifespan, routers=[router], readiness=lambda _: checks)


@asynccontextmanager
async def serving(readiness: Mapping[str, ReadinessCheck] | None = None) -> AsyncIterator[aio.Channel]:
    """The app behind build_server's AppCallback on a real server, and a channel to it."""
    server, checks = build_server(_app(readiness), lambda _server, _app: None, app_token=APP_TOKEN)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await checks.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(None)


def _invoke(
    verb: str, method: str, body: bytes = b"", query: str = ""
) -> tuple[common_pb2.InvokeRequest, list[tuple[str, str]]]:
    request = common_pb2.InvokeRequest(
        method=method,
        data=any_pb2.Any(value=body),
        content_type="application/json" if body else "",
        http_extension=common_pb2.HTTPExtension(verb=common_pb2.HTTPExtension.Verb.Value(verb), querystring=query),
    )
    return request, [("dapr-api-token", APP_TOKEN), ("x-request-id", "req-1")]


async def test_an_http_invocation_reaches_the_route_with_its_verb_body_and_query() -> None:
    async with serving() as channel:
        stub = appcallback_pb2_grpc.AppCallbackStub(channel)
        request, metadata = _invoke("POST", "things", b'{"name": "lamp"}')
        call = stub.OnInvoke(request, metadata=metadata)
        answer = await call
        body = answer.data.value.decode()
        assert '"success":true' in body and '"lamp"' in body and answer.content_type == "application/json"
        assert ("x-request-id", "req-1") in list(await call.initial_metadata())
        request, metadata = _invoke("GET", "things/t1", query="detail=long")
        assert b'"detail":"long"' in (await stub.OnInvoke(request, metadata=metadata)).data.value


async def test_a_refusal_goes_back_ok_with_its_envelope_and_status_header() -> None:
    async with serving() as channel:
        stub = appcallback_pb2_grpc.AppCallbackStub(channel)
        request, metadata = _invoke("GET", "things/missing")
        call = stub.OnInvoke(request, metadata=metadata)
        answer = await call
        assert b'"statusCode":404' in answer.data.value and b"THING_NOT_FOUND" in answer.data.value
        assert ("x-junction-status", "404") in list(await call.initial_metadata())


async def test_not_ready_goes_back_ok_with_its_envelope_so_the_caller_reads_not_ready() -> None:
    """A 503 would go back as Dapr's UNAVAILABLE, its body Dapr's own: the gateway could not tell an app that
    answered it is not ready from one that did not answer (and would mark it down)."""
    async with serving({"database": _gone}) as channel:
        request, metadata = _invoke("GET", "readyz")
        call = appcallback_pb2_grpc.AppCallbackStub(channel).OnInvoke(request, metadata=metadata)
        answer = await call
        assert b'"statusCode":503' in answer.data.value and b'"NOT_READY"' in answer.data.value
        assert ("x-junction-status", "503") in list(await call.initial_metadata())


async def test_a_crash_goes_back_as_a_failed_status() -> None:
    async with serving() as channel:
        request, metadata = _invoke("GET", "things/crash")
        with pytest.raises(aio.AioRpcError) as raw:
            await appcallback_pb2_grpc.AppCallbackStub(channel).OnInvoke(request, metadata=metadata)
        assert raw.value.code() == grpc.StatusCode.INTERNAL


async def test_only_the_sidecar_may_invoke_but_anyone_may_probe() -> None:
    async with serving() as channel:
        request, _ = _invoke("GET", "things/t1")
        with pytest.raises(aio.AioRpcError) as raw:
            await appcallback_pb2_grpc.AppCallbackStub(channel).OnInvoke(request, metadata=[("dapr-api-token", "x")])
        assert raw.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await appcallback_pb2_grpc.AppCallbackHealthCheckStub(channel).HealthCheck(empty_pb2.Empty())
        checked = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert checked.status == health_pb2.HealthCheckResponse.SERVING


async def test_no_programmatic_subscriptions_or_bindings() -> None:
    async with serving() as channel:
        stub = appcallback_pb2_grpc.AppCallbackStub(channel)
        metadata = [("dapr-api-token", APP_TOKEN)]
        assert not (await stub.ListTopicSubscriptions(empty_pb2.Empty(), metadata=metadata)).subscriptions
        assert not (await stub.ListInputBindings(empty_pb2.Empty(), metadata=metadata)).bindings
        # daprd asks for subscriptions without the token: answered (empty), not refused over and over
        assert not (await stub.ListTopicSubscriptions(empty_pb2.Empty())).subscriptions
        with pytest.raises(aio.AioRpcError) as raw:
            await stub.ListInputBindings(empty_pb2.Empty())
        assert raw.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_every_unary_call_is_counted_by_method_and_status_and_a_bridged_one_by_its_route_too() -> None:
    on_invoke, check = "/dapr.proto.runtime.v1.AppCallback/OnInvoke", "/grpc.health.v1.Health/Check"

    def counts() -> tuple[float, ...]:
        return (
            sample(GRPC_CALLS, method=on_invoke, code="OK"),
            sample(GRPC_CALLS, method=on_invoke, code="UNAUTHENTICATED"),
            sample(GRPC_CALLS, method=on_invoke, code="INTERNAL"),
            sample(GRPC_CALLS, method=check, code="OK"),
            sample("junction_http_requests_total", method="GET", route="/things/{thing_id}", status="200"),
        )

    before = counts()
    async with serving() as channel:
        stub = appcallback_pb2_grpc.AppCallbackStub(channel)
        request, metadata = _invoke("GET", "things/t1")
        await stub.OnInvoke(request, metadata=metadata)
        for refused in ([("dapr-api-token", "x")], _invoke("GET", "things/crash")[1]):
            with pytest.raises(aio.AioRpcError):
                await stub.OnInvoke(_invoke("GET", "things/crash")[0], metadata=refused)
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert [after - earlier for after, earlier in zip(counts(), before, strict=True)] == [1, 1, 1, 1, 1]
    assert sample("junction_grpc_request_duration_seconds_count", method=check) >= 1
