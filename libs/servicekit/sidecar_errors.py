"""The sidecar's failures as the kit's errors, with the codes the kit used when it spoke HTTP.

The error classes below are raised over either protocol: by the SDK calls' mapping here, by the HTTP
calls of servicekit.sidecar (service invocation, health) and by servicekit.grpc_client's channel.

daprd answers a failed call with a gRPC status and, for an error of its own, a google.rpc.ErrorInfo
whose `reason` names it (`ERR_STATE_TRANSACTION`; pub/sub says `DAPR_PUBSUB_FORBIDDEN`). The SDK
raises that as DaprGrpcError, as a bare AioRpcError (get_secret; the kit's transaction) or as a
DaprInternalError caused by one (save_state): `failure_of` finds the status under any of them.

- DEADLINE_EXCEEDED (the call's deadline, the sidecar timeout) -> UPSTREAM_TIMEOUT, for every call.
- UNAVAILABLE without ErrorInfo (the call never reached daprd) -> SIDECAR_UNREACHABLE, for every call.
- A state write: ABORTED (SaveState's ETag mismatch), or "etag" in the message (a transaction's ETag
  or insert-only clash, which daprd reports as INTERNAL) -> ETagMismatch (a Conflict).
- A publish: INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION or
  OUT_OF_RANGE (the request's own fault: a topic no scope allows) -> PublishRefused, unless its reason
  is in _EVERY_PUBLISH (no such pub/sub: the sidecar's set-up) -> PUBLISH_FAILED.
- Anything else -> STATE_UNAVAILABLE, PUBLISH_FAILED or SECRET_UNAVAILABLE.

Everything but ETagMismatch and PublishRefused is a DependencyUnavailable (503): the caller tries again.
The publish rule is the HTTP one (a 4xx but 401, 408, 429) in gRPC's terms: UNAUTHENTICATED,
DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are those three, and stay retryable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from dapr.clients.exceptions import ERROR_CODE_UNKNOWN, DaprGrpcError

from servicekit.errors import BadRequest, DependencyUnavailable, ETagMismatch, JunctionError, ServiceUnavailable

_EVERY_PUBLISH = frozenset(
    {
        # The ErrorInfo reasons daprd 1.18 gives over gRPC (pkg/messages/errorcodes), with their HTTP errorCode.
        "DAPR_PUBSUB_NOT_FOUND",  # ERR_PUBSUB_NOT_FOUND: no such pub/sub component
        "DAPR_PUBSUB_TEST_NOT_FOUND",  # ERR_PUBSUB_NOT_FOUND, from the publisher
        "DAPR_PUBSUB_NOT_CONFIGURED",  # ERR_PUBSUB_NOT_CONFIGURED: no pub/sub at all
        "DAPR_PUBSUB_NAME_EMPTY",  # ERR_PUBSUB_EMPTY
    }
)
"""Refusals that concern the sidecar's set-up, not one message: every publish would get them, so they are retried."""

_REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
    }
)
"""The statuses that say the request itself is wrong (HTTP's 400, 403, 404, 409): retrying it cannot help."""


class PublishRefused(BadRequest):
    """Raised when the sidecar refuses one message for good (a topic no scope allows, say); retrying cannot help.

    A timeout, an unreachable sidecar, a broker failure or a refusal that every message would get (no
    such pub/sub) is a DependencyUnavailable instead: the publisher keeps its order and tries again.
    """

    default_code = "PUBLISH_REFUSED"


class PublishFailed(DependencyUnavailable):
    """Raised when publishing failed (the broker, or the sidecar's pub/sub set-up); the outbox tries again."""

    default_code = "PUBLISH_FAILED"


class StateUnavailable(DependencyUnavailable):
    """Raised when the state store failed a read or a write (other than a lost ETag race)."""

    default_code = "STATE_UNAVAILABLE"


class SecretUnavailable(DependencyUnavailable):
    """Raised when the secret store failed, or holds no such secret."""

    default_code = "SECRET_UNAVAILABLE"


class SidecarUnavailable(DependencyUnavailable):
    """Raised when the sidecar's metadata (the components it loaded) could not be read."""

    default_code = "SIDECAR_UNAVAILABLE"


class SidecarUnreachable(DependencyUnavailable):
    """Raised when the app could not reach its own sidecar, over HTTP or gRPC (refused, reset, channel shut)."""

    default_code = "SIDECAR_UNREACHABLE"


class SidecarNotReady(DependencyUnavailable):
    """Raised at start when the sidecar did not become ready within the app's wait."""

    default_code = "SIDECAR_NOT_READY"


class SidecarCallTimeout(DependencyUnavailable):
    """Raised when a call through the sidecar (a peer invoked over HTTP, the sidecar's own APIs) did not answer in time.

    A 503 like every DependencyUnavailable; a peer over gRPC that runs out of time is an UpstreamTimeout (504).
    """

    default_code = "UPSTREAM_TIMEOUT"


BREAKER_REFUSALS = ("circuit breaker is open", "too many requests")
"""What daprd 1.18 says when a target's circuit breaker refuses a call (gobreaker's ErrOpenState, and
ErrTooManyRequests while half-open): at the end of ERR_DIRECT_INVOKE's message over HTTP (`failed to
invoke, id: catalog, err: circuit breaker is open`), as the whole message of an UNKNOWN status over gRPC."""


def breaker_refused(message: str) -> bool:
    """Whether a sidecar's own error message (never an app's) says the peer's breaker refused the call."""
    return message.endswith(BREAKER_REFUSALS)


class BreakerOpen(ServiceUnavailable):
    """Raised when the caller's own sidecar refused a call because its circuit breaker towards the peer is open.

    A ServiceUnavailable with the same code: only a caller that keeps a view of its peers (the gateway's
    registry) tells the two apart.
    """


@dataclass(frozen=True)
class SidecarFailure:
    """What a failed gRPC call to the sidecar said."""

    status: grpc.StatusCode
    reason: str | None
    """Dapr's ErrorInfo reason; None when the answer carries none (the transport's own failures)."""
    message: str

    @property
    def unreachable(self) -> bool:
        """The call never reached the sidecar (connection refused, reset, or the channel shut)."""
        return self.status == grpc.StatusCode.UNAVAILABLE and self.reason is None

    @property
    def details(self) -> dict[str, Any]:
        """Dapr's error in the shape of its HTTP error bodies (which the gateway knows to keep inside)."""
        return {"errorCode": self.reason or self.status.name, "message": self.message, "grpcStatus": self.status.name}


def failure_of(exc: BaseException) -> SidecarFailure | None:
    """The gRPC failure behind an SDK exception, or None when it is not one."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, grpc.RpcError):
        cause = cause.__cause__
    if cause is None:
        return None
    error = cause if isinstance(cause, DaprGrpcError) else _parsed(cause)
    status = error.code() if isinstance(error.code(), grpc.StatusCode) else grpc.StatusCode.UNKNOWN
    reason = error.error_code() if isinstance(error, DaprGrpcError) else ERROR_CODE_UNKNOWN
    return SidecarFailure(status, None if reason == ERROR_CODE_UNKNOWN else str(reason), str(error.details() or ""))


def _parsed(error: grpc.RpcError) -> grpc.RpcError:
    """The SDK's reading of a bare RpcError's rich status; the error itself when it has none to read."""
    try:
        return DaprGrpcError(error)
    except (ValueError, AttributeError):  # a status whose details disagree with it, or no trailing metadata
        return error


def _transport_error(failure: SidecarFailure, what: str) -> DependencyUnavailable | None:
    if failure.status == grpc.StatusCode.DEADLINE_EXCEEDED:
        return SidecarCallTimeout(f"{what} did not answer in time.")
    if failure.unreachable:
        return SidecarUnreachable(f"{what} is not reachable.")
    return None


def publish_refused(failure: SidecarFailure) -> bool:
    """Whether a publish answer refuses this one message for good."""
    return failure.status in _REFUSALS and failure.reason not in _EVERY_PUBLISH


def publish_error(failure: SidecarFailure, topic: str) -> JunctionError:
    if (transport := _transport_error(failure, "The message broker")) is not None:
        return transport
    if publish_refused(failure):
        return PublishRefused(f"The broker refused {topic}.", details=failure.details)
    return PublishFailed(f"Publishing {topic} failed.", details=failure.details)


def state_read_error(failure: SidecarFailure) -> JunctionError:
    if (transport := _transport_error(failure, "The state store")) is not None:
        return transport
    return StateUnavailable("Reading state failed.", details=failure.details)


def state_write_error(failure: SidecarFailure) -> JunctionError:
    """An ETag or insert-only clash is a Conflict: SaveState says ABORTED, a transaction only says so in words."""
    if (transport := _transport_error(failure, "The state store")) is not None:
        return transport
    if failure.status == grpc.StatusCode.ABORTED or "etag" in failure.message.lower():
        return ETagMismatch("The value changed meanwhile.")
    return StateUnavailable("Saving state failed.", details=failure.details)


def secret_error(failure: SidecarFailure, key: str) -> JunctionError:
    if (transport := _transport_error(failure, "The secret store")) is not None:
        return transport
    return SecretUnavailable(f"Secret {key} is not available.", details=failure.details)


def metadata_error(failure: SidecarFailure) -> JunctionError:
    if (transport := _transport_error(failure, "The sidecar")) is not None:
        return transport
    return SidecarUnavailable("The sidecar's metadata is not available.")
