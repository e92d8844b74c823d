"""Run an app whose sidecar speaks gRPC to it (`app-protocol grpc`): one grpc.aio server on APP_PORT.

The server carries the app's own services, the standard health service (grpc.health.v1, for
operators and the test harness) and Dapr's AppCallback + AppCallbackHealthCheck, through which the
sidecar hands over HTTP invocations and probes the app (servicekit.grpc_bridge). The FastAPI app's
lifespan runs around the server, so wiring, readiness checks, metrics and shutdown are the ones an HTTP app has.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import grpc
from dapr.proto.runtime.v1 import appcallback_pb2_grpc
from fastapi import FastAPI
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from servicekit.grpc_bridge import AppHealthCheck, AsgiAppCallback
from servicekit.grpc_client import API_TOKEN_KEY
from servicekit.metrics import observe_grpc
from servicekit.settings import ServiceSettings

log = logging.getLogger("servicekit.grpc")
Req = TypeVar("Req")
Resp = TypeVar("Resp")
AddServices = Callable[[aio.Server, FastAPI], None]
"""Adds the app's own servicers to the server; the FastAPI app's lifespan has run (app.state is wired)."""

OPEN_METHODS = (
    "/grpc.health.v1.Health/",
    # daprd probes a gRPC app without its app token (dapr 1.18 pkg/channel/grpc HealthProbe).
    "/dapr.proto.runtime.v1.AppCallbackHealthCheck/",
    # daprd asks for programmatic subscriptions without the app token too, and asks again while refused;
    # the answer is always empty (subscriptions are declared), as GET /dapr/subscribe is on HTTP.
    "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
)
"""What tells nothing: callable without the sidecar's token, as `/healthz` is on HTTP."""
STOP_GRACE_SECONDS = 10.0


class SidecarTokenInterceptor(aio.ServerInterceptor):
    """Refuse (UNAUTHENTICATED) every call that does not carry this app's APP_API_TOKEN.

    daprd adds it to every call it hands the app, proxied ones included, after removing the
    caller's own token: only the app's own sidecar knows it.
    """

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Req, Resp] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Req, Resp] | None:
        if handler_call_details.method.startswith(OPEN_METHODS):
            return await continuation(handler_call_details)
        presented = next(
            (str(value) for key, value in handler_call_details.invocation_metadata or () if key == API_TOKEN_KEY), ""
        )
        if hmac.compare_digest(presented.encode(), self._token):
            return await continuation(handler_call_details)
        return grpc.unary_unary_rpc_method_handler(_refuse)


async def _refuse(request: object, context: aio.ServicerContext[object, object]) -> object:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "Calls are accepted only from this app's sidecar.")
    raise AssertionError("abort raises")  # pragma: no cover


class MetricsInterceptor(aio.ServerInterceptor):
    """Count and time every unary call by its full method name and status code (servicekit.metrics).

    Outermost, so a call the token check refuses counts too (UNAUTHENTICATED); streams are not counted.
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Req, Resp] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Req, Resp] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:  # unknown method (UNIMPLEMENTED) or a stream
            return handler
        method, behaviour = handler_call_details.method, cast(Any, handler.unary_unary)

        async def observed(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            began, code = time.perf_counter(), grpc.StatusCode.UNKNOWN
            try:
                response = await behaviour(request, context)
                code = context.code() or grpc.StatusCode.OK
                return response
            except BaseException:
                code = context.code() or grpc.StatusCode.UNKNOWN  # abort set it; a crash did not
                raise
            finally:
                observe_grpc(method, code.name, time.perf_counter() - began)

        return grpc.unary_unary_rpc_method_handler(
            observed, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


def build_server(app: FastAPI, add_services: AddServices, *, app_token: str | None) -> tuple[aio.Server, Any]:
    """The server with the app's services, the health service (returned, to be set) and Dapr's callbacks."""
    tokens = [SidecarTokenInterceptor(app_token)] if app_token else []
    interceptors: list[aio.ServerInterceptor] = [MetricsInterceptor(), *tokens]
    server = aio.server(interceptors=interceptors)
    add_services(server, app)
    checks = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    appcallback_pb2_grpc.add_AppCallbackServicer_to_server(AsgiAppCallback(app), server)
    appcallback_pb2_grpc.add_AppCallbackHealthCheckServicer_to_server(AppHealthCheck(), server)
    return server, checks


async def run(app: FastAPI, add_services: AddServices, *, port: int, app_token: str | None) -> None:
    """Enter the app's lifespan, serve on 127.0.0.1:`port` until SIGTERM or SIGINT, then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):
        server, checks = build_server(app, add_services, app_token=app_token)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await checks.set("", health_pb2.HealthCheckResponse.SERVING)
        log.info("serving gRPC on 127.0.0.1:%d", port)
        await stop.wait()
        await checks.enter_graceful_shutdown()
        await server.stop(STOP_GRACE_SECONDS)


def serve_grpc(create_app: Callable[[], FastAPI], add_services: AddServices) -> None:
    """Run `create_app()` as a gRPC app on APP_PORT, refusing calls without its settings' APP_API_TOKEN."""
    app = create_app()
    settings: ServiceSettings = app.state.settings
    token = settings.app_api_token.get_secret_value() if settings.app_api_token else None
    asyncio.run(run(app, add_services, port=int(os.environ.get("APP_PORT", "8000")), app_token=token))
