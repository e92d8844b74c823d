"""gRPC status codes and the kit's error tree, both ways, so a gRPC hop keeps the one error model.

A server (identity's servicers) answers a JunctionError as the status `status_of` names, with the
error's own code in the trailing metadata key `junction-code`; a client (servicekit.grpc_client)
turns a status back with `error_of`, keeping that code, so USER_NOT_FOUND crosses a gRPC hop as it
crosses an HTTP one. A status without `junction-code` came from Dapr or the transport, not the app.

    gRPC status           kit error               HTTP
    NOT_FOUND             NotFound                404
    INVALID_ARGUMENT      ValidationFailed        422
    UNAVAILABLE           DependencyUnavailable   503
    DEADLINE_EXCEEDED     UpstreamTimeout         504
    ALREADY_EXISTS        Conflict                409
    ABORTED               Conflict                409
    PERMISSION_DENIED     Forbidden               403  (503 without junction-code: a sidecar's denial)
    UNAUTHENTICATED       Unauthorized            401  (503 without junction-code: a sidecar's refusal)
    RESOURCE_EXHAUSTED    RateLimited             429
    FAILED_PRECONDITION   BadRequest              400
    OUT_OF_RANGE          BadRequest              400
    anything else         DependencyUnavailable   503  (UNKNOWN, INTERNAL, CANCELLED, ...: the peer broke)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from servicekit.errors import (
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    JunctionError,
    NotFound,
    OperationFailed,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    UpstreamTimeout,
    ValidationFailed,
)

CODE_KEY = "junction-code"
"""Trailing metadata: the kit's error code of a refusal (USER_NOT_FOUND), beside the gRPC status."""

_ERRORS: dict[grpc.StatusCode, type[JunctionError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.INVALID_ARGUMENT: ValidationFailed,
    grpc.StatusCode.UNAVAILABLE: DependencyUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: UpstreamTimeout,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.UNAUTHENTICATED: Unauthorized,
    grpc.StatusCode.FAILED_PRECONDITION: BadRequest,
    grpc.StatusCode.OUT_OF_RANGE: BadRequest,
}

_MESH_REFUSALS = frozenset({grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED})

# Most specific first: UpstreamTimeout before DependencyUnavailable, every subclass before its base.
_STATUSES: tuple[tuple[type[JunctionError], grpc.StatusCode], ...] = (
    (UpstreamTimeout, grpc.StatusCode.DEADLINE_EXCEEDED),
    (DependencyUnavailable, grpc.StatusCode.UNAVAILABLE),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (ValidationFailed, grpc.StatusCode.INVALID_ARGUMENT),
    (PayloadTooLarge, grpc.StatusCode.INVALID_ARGUMENT),
    (Conflict, grpc.StatusCode.ALREADY_EXISTS),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (Unauthorized, grpc.StatusCode.UNAUTHENTICATED),
    (RateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (OperationFailed, grpc.StatusCode.FAILED_PRECONDITION),
    (BadRequest, grpc.StatusCode.FAILED_PRECONDITION),
)


def status_of(err: JunctionError) -> grpc.StatusCode:
    """The gRPC status a server answers `err` with; INTERNAL for an error the table does not name."""
    for kind, status in _STATUSES:
        if isinstance(err, kind):
            return status
    return grpc.StatusCode.INTERNAL


def error_of(
    status: grpc.StatusCode, message: str, trailing: Sequence[tuple[str, Any]] = (), *, peer: str
) -> JunctionError:
    """The kit's error for a failed call to `peer`: the table's class, with the app's own code when it sent one.

    PERMISSION_DENIED and UNAUTHENTICATED without `junction-code` are a sidecar's (an access-control
    denial, a wrong API token): the mesh is set up wrong, which is not the client's fault, so they are
    a 503 like the HTTP path's answers from Dapr itself.
    """
    code = next((str(value) for key, value in trailing if key == CODE_KEY), None)
    if status == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return RateLimited(message or f"The {peer} service is busy.", retry_after=1, code=code)
    kind = _ERRORS.get(status, DependencyUnavailable)
    if code is None and status in _MESH_REFUSALS:
        kind = DependencyUnavailable
    if code is None and issubclass(kind, DependencyUnavailable):
        details = {"service": peer, "grpcStatus": status.name, "message": message}
        if kind is UpstreamTimeout:
            return UpstreamTimeout(f"The {peer} service did not answer in time.", details=details)
        return ServiceUnavailable(f"The {peer} service is unavailable.", details=details)
    return kind(message, code=code)
