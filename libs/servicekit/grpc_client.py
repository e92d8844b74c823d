"""Calls to a gRPC app through Dapr's gRPC proxying: the app's OWN sidecar, `dapr-app-id` naming the peer.

One channel per app, opened in its lifespan (`MeshChannel.open`), dials the sidecar's gRPC API on
127.0.0.1; every call carries the peer's app id, the app's Dapr API token (the sidecar wants it on
the proxied path too), the request id, and a deadline. The sidecar applies the peer's resiliency
target (components/common/resiliency.yaml: timeout, retries on gRPC codes 4, 8, 14, breaker) and the
peer's sidecar its access control, by the full method name. A failure leaves as the kit's error
(servicekit.grpc_errors), so the envelope stays the one error model; one the peer's open breaker caused is
also counted (servicekit.metrics) and raised as BreakerOpen.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import grpc
from grpc import aio

from servicekit.context import REQUEST_ID_HEADER, current_request_id
from servicekit.grpc_errors import CODE_KEY, error_of
from servicekit.metrics import BREAKER_REFUSALS
from servicekit.sidecar_errors import BreakerOpen, SidecarUnreachable, breaker_refused
from servicekit.tracing import inject_trace

Request = TypeVar("Request")
Response = TypeVar("Response")

APP_ID_KEY = "dapr-app-id"
API_TOKEN_KEY = "dapr-api-token"  # noqa: S105 - the metadata key, not a token


class UnaryCall(Protocol[Request, Response]):
    """A generated async stub's method (`UsersAsyncStub.GetUser`, say)."""

    def __call__(
        self, request: Request, *, timeout: float | None = ..., metadata: aio.Metadata | None = ...
    ) -> aio.UnaryUnaryCall[Request, Response]: ...


class MeshChannel:
    """The app's gRPC channel to its own sidecar, for proxied calls to gRPC apps."""

    def __init__(self, channel: aio.Channel, *, api_token: str | None, deadline_seconds: float) -> None:
        self.channel = channel
        self._api_token = api_token
        self.deadline_seconds = deadline_seconds

    @classmethod
    def open(cls, *, grpc_port: int, api_token: str | None, deadline_seconds: float) -> MeshChannel:
        """Open the channel (it connects on the first call, and again after its sidecar was gone)."""
        channel = aio.insecure_channel(f"127.0.0.1:{grpc_port}")
        return cls(channel, api_token=api_token, deadline_seconds=deadline_seconds)

    async def aclose(self) -> None:
        await self.channel.close(grace=None)

    def metadata(self, app_id: str) -> aio.Metadata:
        """What every proxied call carries: the peer, the app's own sidecar token, the request id, the trace."""
        pairs: list[tuple[str, str]] = [(APP_ID_KEY, app_id)]
        if self._api_token:
            pairs.append((API_TOKEN_KEY, self._api_token))
        request_id = current_request_id()
        if request_id:
            pairs.append((REQUEST_ID_HEADER.lower(), request_id))
        trace_context: dict[str, str] = {}
        inject_trace(trace_context)
        pairs.extend(trace_context.items())
        return aio.Metadata(*pairs)

    async def call(self, method: UnaryCall[Request, Response], request: Request, *, app_id: str) -> Response:
        """Call `method` of `app_id` through the sidecar; a failed status raises the kit's error."""
        try:
            return await method(request, timeout=self.deadline_seconds, metadata=self.metadata(app_id))
        except aio.AioRpcError as exc:
            trailing = list(exc.trailing_metadata() or ())
            message = exc.details() or ""
            if breaker_refused(message) and not any(key == CODE_KEY for key, _ in trailing):
                BREAKER_REFUSALS.labels(app_id).inc()  # the sidecar's refusal, not the app's: it sent no code
                details = {"service": app_id, "grpcStatus": exc.code().name, "message": message}
                raise BreakerOpen(f"The {app_id} service is unavailable.", details=details) from exc
            raise error_of(exc.code(), message, trailing, peer=app_id) from exc
        except grpc.RpcError as exc:  # not an AioRpcError: the channel itself failed
            raise SidecarUnreachable(f"The {app_id} service is not reachable.") from exc
