"""A stand-in daprd for integration tests: the Dapr gRPC API in process, served over real gRPC on loopback (the
SDK's own generated servicer), and the HTTP health endpoint the SDK's constructor polls. It records what it was
asked and fails the way daprd does: a gRPC status with, for Dapr's own errors, a google.rpc.ErrorInfo whose
reason names the error."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import grpc.aio
from dapr.proto import api_service_v1, api_v1
from google.protobuf import any_pb2, empty_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Failure:
    """How the fake answers a call it is told to fail."""

    status: grpc.StatusCode
    message: str
    reason: str | None = None
    """The ErrorInfo reason daprd attaches to its own errors; None for a status without details."""


@dataclass
class Call:
    method: str
    request: Any
    metadata: dict[str, str]


@dataclass
class FakeDaprd(api_service_v1.DaprServicer):
    """Answers PublishEvent, GetState, GetBulkState, SaveState, ExecuteStateTransaction, GetSecret and GetMetadata."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    """Per method name: answer with this failure instead."""
    delay_seconds: float = 0.0
    delays: dict[str, float] = field(default_factory=dict)
    """Per method name: answer this much later (on top of `delay_seconds`)."""
    state: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)

    async def _answer(self, method: str, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        metadata = {key: str(value) for key, value in context.invocation_metadata() or ()}
        self.calls.append(Call(method, request, metadata))
        if delay := self.delay_seconds + self.delays.get(method, 0.0):
            await asyncio.sleep(delay)
        failure = self.failures.get(method)
        if failure is None:
            return
        details = []
        if failure.reason is not None:
            info = error_details_pb2.ErrorInfo(reason=failure.reason, domain="dapr.io")
            packed = any_pb2.Any()
            packed.Pack(info)
            details.append(packed)
        status = rpc_status.to_status(
            status_pb2.Status(code=failure.status.value[0], message=failure.message, details=details)
        )
        await context.abort(status.code, status.details, status.trailing_metadata)

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def PublishEvent(self, request: Any, context: Any) -> empty_pb2.Empty:
        await self._answer("PublishEvent", request, context)
        return empty_pb2.Empty()

    async def GetState(self, request: Any, context: Any) -> Any:
        await self._answer("GetState", request, context)
        data, etag = self.state.get(request.key, (b"", ""))
        return api_v1.GetStateResponse(data=data, etag=etag)

    async def GetBulkState(self, request: Any, context: Any) -> Any:
        await self._answer("GetBulkState", request, context)
        items = []
        for key in request.keys:
            data, etag = self.state.get(key, (b"", ""))
            error = "boom" if data == b"!" else ""
            items.append(api_v1.BulkStateItem(key=key, data=b"" if error else data, etag=etag, error=error))
        return api_v1.GetBulkStateResponse(items=items)

    async def SaveState(self, request: Any, context: Any) -> empty_pb2.Empty:
        await self._answer("SaveState", request, context)
        return empty_pb2.Empty()

    async def ExecuteStateTransaction(self, request: Any, context: Any) -> empty_pb2.Empty:
        await self._answer("ExecuteStateTransaction", request, context)
        return empty_pb2.Empty()

    async def GetSecret(self, request: Any, context: Any) -> Any:
        await self._answer("GetSecret", request, context)
        return api_v1.GetSecretResponse(data=self.secrets.get(request.key, {}))

    async def GetMetadata(self, request: Any, context: Any) -> Any:
        await self._answer("GetMetadata", request, context)
        component = api_v1.RegisteredComponents(name="statestore", type="state.sqlite", version="v1")
        return api_v1.GetMetadataResponse(id="probe", registered_components=[component])


class _Health(BaseHTTPRequestHandler):
    ready = True

    def do_GET(self) -> None:
        self.send_response(204 if self.server.ready and self.path == "/v1.0/healthz/outbound" else 500)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test's output is the assertions."""


@dataclass
class Sidecar:
    """The ports a DaprSidecar needs, and the fake behind them."""

    daprd: FakeDaprd
    http_port: int
    grpc_port: int
    health: ThreadingHTTPServer
    server: grpc.aio.Server | None = None

    def set_ready(self, ready: bool) -> None:
        self.health.ready = ready  # type: ignore[attr-defined]

    async def start_grpc(self) -> None:
        self.server = grpc.aio.server()
        api_service_v1.add_DaprServicer_to_server(self.daprd, self.server)
        self.server.add_insecure_port(f"127.0.0.1:{self.grpc_port}")
        await self.server.start()

    async def stop_grpc(self) -> None:
        if self.server is not None:
            await self.server.stop(None)
            self.server = None


@asynccontextmanager
async def fake_sidecar(daprd: FakeDaprd | None = None) -> AsyncIterator[Sidecar]:
    """A fake daprd on free loopback ports, for the duration of the block."""
    health = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    health.ready = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=health.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    sidecar = Sidecar(daprd or FakeDaprd(), int(health.server_address[1]), free_port(), health)
    await sidecar.start_grpc()
    try:
        yield sidecar
    finally:
        await sidecar.stop_grpc()
        health.shutdown()
        health.server_close()
        thread.join()


__all__ = ["Call", "Failure", "FakeDaprd", "Sidecar", "fake_sidecar", "free_port"]
