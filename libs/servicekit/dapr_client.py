"""Dapr's Python SDK client (`dapr.aio.clients.DaprClient`) on the app's own sidecar, and what the kit adds.

- The constructor polls the sidecar's HTTP health synchronously (urllib and time.sleep, on the event
  loop), at an address and with a token from process-wide settings (`dapr.conf.settings`, read from
  the environment at import). `open_dapr_client` sets those from the app's own settings, and the kit
  calls it only on a sidecar it has just seen ready, so the poll answers at once; DAPR_HEALTH_TIMEOUT
  bounds it should the sidecar die in between.
- The constructor takes no channel options. Its channel shares gRPC's process-wide subchannel pool,
  so a client opened after the sidecar restarted inherits the old connection's reconnect backoff
  (1 s growing to 120 s: 5.8 s after a 20 s outage, measured here) for as long as anything still
  refers to the old one. `KitDaprClient` talks over a channel of its own instead: a local subchannel
  pool, every call bounded by the sidecar timeout, the app's token and the request id on each call.
- Its transactions drop options (`TransactionalStateOperation` has no `options`, in 1.18.3 and 1.19.0),
  so neither an insert-only write (first-write, no ETag) nor a first-write ETag check can be asked for
  (and state.redis ignores an ETag under last-write). `execute_transaction` sends ExecuteStateTransaction
  with them, through the SDK's generated stub.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc.aio
from dapr.aio.clients import DaprClient
from dapr.conf import settings as sdk_settings
from dapr.proto import api_service_v1, api_v1
from dapr.version import __version__ as sdk_version

from servicekit.context import REQUEST_ID_HEADER, current_request_id
from servicekit.tracing import inject_trace

HEALTH_POLL_SECONDS = 2
"""How long the constructor's blocking health poll may go on (it answers at once on a ready sidecar)."""


class _CallDefaults(grpc.aio.UnaryUnaryClientInterceptor):
    """Give every call the app's token, a deadline, the current request id and trace context."""

    def __init__(self, *, api_token: str | None, timeout_seconds: float) -> None:
        self.token = [("dapr-api-token", api_token)] if api_token else []
        self.timeout_seconds = timeout_seconds

    async def intercept_unary_unary(
        self, continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any], details: Any, request: Any
    ) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *self.token)
        if request_id := current_request_id():
            metadata.add(REQUEST_ID_HEADER.lower(), request_id)
        trace_context: dict[str, str] = {}
        inject_trace(trace_context)  # daprd's span of the call (a publish, a transaction) joins the app's trace
        for key, value in trace_context.items():
            metadata.add(key, value)
        timeout = details.timeout if details.timeout is not None else self.timeout_seconds
        bounded = grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )
        return await continuation(bounded, request)


class KitDaprClient(DaprClient):
    """The SDK's client on a channel of the kit's, plus a state transaction that keeps its options."""

    def __init__(self, *, address: str, api_token: str | None, timeout_seconds: float) -> None:
        super().__init__(address=address)  # polls health; its channel stays unused (channels dial on first call)
        self._sdk_channel = self._channel
        self._channel = grpc.aio.insecure_channel(
            address,
            options=[
                ("grpc.primary_user_agent", f"dapr-sdk-python/{sdk_version}"),
                ("grpc.use_local_subchannel_pool", 1),
            ],
            interceptors=[_CallDefaults(api_token=api_token, timeout_seconds=timeout_seconds)],
        )
        self._stub = api_service_v1.DaprStub(self._channel)

    async def execute_transaction(self, store: str, operations: Sequence[api_v1.TransactionalStateOperation]) -> None:
        """Apply the operations all or none; raises the call's AioRpcError as it is."""
        request = api_v1.ExecuteStateTransactionRequest(storeName=store, operations=list(operations))
        await self._stub.ExecuteStateTransaction(request)

    async def close(self, *, grace_seconds: float | None = None) -> None:
        """Close both channels; calls still in flight after `grace_seconds` (at once without) end CANCELLED.

        grpc.aio ends a call it cancels this way with asyncio.CancelledError in the caller's task.
        """
        await self._sdk_channel.close()  # never called on: nothing to wait for
        await self._channel.close(grace=grace_seconds)


def open_dapr_client(*, http_port: int, grpc_port: int, api_token: str | None, timeout_seconds: float) -> KitDaprClient:
    """A client on 127.0.0.1:`grpc_port` with this app's token; call it on a sidecar just seen ready."""
    own = {
        "DAPR_API_TOKEN": api_token,
        "DAPR_RUNTIME_HOST": "127.0.0.1",
        "DAPR_HTTP_ENDPOINT": None,
        "DAPR_HTTP_PORT": http_port,
        "DAPR_HEALTH_TIMEOUT": HEALTH_POLL_SECONDS,
    }
    for name, value in own.items():  # what the constructor's health poll reads
        setattr(sdk_settings, name, value)
    return KitDaprClient(address=f"127.0.0.1:{grpc_port}", api_token=api_token, timeout_seconds=timeout_seconds)
