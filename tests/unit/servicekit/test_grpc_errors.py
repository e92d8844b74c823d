"""servicekit.grpc_errors: gRPC status codes and the kit's error tree, both ways."""

from __future__ import annotations

import grpc
import pytest

from servicekit import (
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    JunctionError,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from servicekit.errors import ServiceUnavailable, UpstreamTimeout, error_for_status
from servicekit.grpc_errors import CODE_KEY, error_of, status_of

S = grpc.StatusCode


@pytest.mark.parametrize(
    ("status", "http", "kind"),
    [
        (S.NOT_FOUND, 404, NotFound),
        (S.INVALID_ARGUMENT, 422, ValidationFailed),
        (S.UNAVAILABLE, 503, DependencyUnavailable),
        (S.DEADLINE_EXCEEDED, 504, UpstreamTimeout),
        (S.ALREADY_EXISTS, 409, Conflict),
        (S.ABORTED, 409, Conflict),
        (S.PERMISSION_DENIED, 403, Forbidden),
        (S.UNAUTHENTICATED, 401, Unauthorized),
        (S.RESOURCE_EXHAUSTED, 429, RateLimited),
        (S.FAILED_PRECONDITION, 400, BadRequest),
    ],
)
def test_an_apps_status_maps_to_the_error_tree_keeping_its_code(
    status: grpc.StatusCode, http: int, kind: type[JunctionError]
) -> None:
    err = error_of(status, "Told by the app.", [(CODE_KEY, "APP_CODE")], peer="identity")
    assert (type(err), err.status, err.code, err.message) == (kind, http, "APP_CODE", "Told by the app.")


def test_the_four_codes_of_s4_without_an_apps_code() -> None:
    assert (error_of(S.NOT_FOUND, "gone", peer="identity").status, "NOT_FOUND") == (404, "NOT_FOUND")
    assert error_of(S.INVALID_ARGUMENT, "bad", peer="identity").status == 422
    unavailable = error_of(S.UNAVAILABLE, "connection refused", peer="identity")
    assert (unavailable.status, unavailable.code) == (503, "SERVICE_UNAVAILABLE")
    assert unavailable.message == "The identity service is unavailable."  # the transport's words stay in details
    late = error_of(S.DEADLINE_EXCEEDED, "Deadline Exceeded", peer="identity")
    assert (late.status, late.code, isinstance(late, DependencyUnavailable)) == (504, "UPSTREAM_TIMEOUT", True)


@pytest.mark.parametrize("status", [S.UNKNOWN, S.INTERNAL, S.CANCELLED, S.UNIMPLEMENTED, S.DATA_LOSS])
def test_a_broken_peer_is_a_503(status: grpc.StatusCode) -> None:
    err = error_of(status, "panic: boom", peer="identity")
    assert (type(err), err.status, err.code) == (ServiceUnavailable, 503, "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize("status", [S.PERMISSION_DENIED, S.UNAUTHENTICATED])
def test_a_sidecars_refusal_without_an_apps_code_is_the_meshs_failure(status: grpc.StatusCode) -> None:
    """An ACL denial or a wrong API token: the mesh is set up wrong, not the client's fault (as on HTTP)."""
    err = error_of(status, "access control policy has denied access", peer="identity")
    assert err.status == 503


@pytest.mark.parametrize(
    ("err", "status"),
    [
        (NotFound("x", code="USER_NOT_FOUND"), S.NOT_FOUND),
        (ValidationFailed("x"), S.INVALID_ARGUMENT),
        (DependencyUnavailable("x"), S.UNAVAILABLE),
        (UpstreamTimeout("x"), S.DEADLINE_EXCEEDED),
        (Conflict("x"), S.ALREADY_EXISTS),
        (Forbidden("x"), S.PERMISSION_DENIED),
        (Unauthorized("x"), S.UNAUTHENTICATED),
        (RateLimited("x", retry_after=1), S.RESOURCE_EXHAUSTED),
        (BadRequest("x"), S.FAILED_PRECONDITION),
        (JunctionError("x"), S.INTERNAL),
    ],
)
def test_a_servers_error_leaves_as_its_status(err: JunctionError, status: grpc.StatusCode) -> None:
    assert status_of(err) == status


def test_a_504_crosses_an_http_hop_as_a_504() -> None:
    """orders answers the 504 inside its envelope; the gateway rebuilds it by status."""
    assert type(error_for_status(504, "late", code="UPSTREAM_TIMEOUT")) is UpstreamTimeout
