"""The error tree: error_for_status rebuilds a peer's error (class, code, details); refusals name their fields."""

from __future__ import annotations

import pytest

from servicekit.errors import (
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    JunctionError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UpstreamTimeout,
    ValidationFailed,
    error_for_status,
    field_problems,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (413, PayloadTooLarge),
        (422, ValidationFailed),
        (503, DependencyUnavailable),
    ],
)
def test_known_status_maps_to_its_class_and_keeps_code_and_details(status: int, cls: type[JunctionError]) -> None:
    err = error_for_status(status, "peer said no", code="PEER_CODE", details={"field": "email"})
    assert type(err) is cls
    assert err.status == status
    assert err.code == "PEER_CODE"
    assert err.message == "peer said no"
    assert err.details == {"field": "email"}


def test_missing_code_falls_back_to_the_class_default() -> None:
    err = error_for_status(404, "gone")
    assert err.code == "NOT_FOUND"
    assert err.details is None


def test_429_carries_retry_after_from_details() -> None:
    err = error_for_status(429, "slow down", code="TOO_FAST", details={"retryAfter": 17})
    assert isinstance(err, RateLimited)
    assert err.status == 429
    assert err.retry_after == 17
    assert err.code == "TOO_FAST"
    assert err.details == {"retryAfter": 17}


@pytest.mark.parametrize("details", [None, {"other": 1}, ["retryAfter", 9]])
def test_429_without_a_usable_retry_after_waits_one_second(details: object) -> None:
    err = error_for_status(429, "slow down", details=details)
    assert isinstance(err, RateLimited)
    assert err.retry_after == 1
    assert err.code == "RATE_LIMITED"


@pytest.mark.parametrize("status", [402, 405, 418, 451])
def test_unknown_4xx_becomes_bad_request(status: int) -> None:
    err = error_for_status(status, "odd", code="ODD")
    assert type(err) is BadRequest
    assert err.status == 400
    assert err.code == "ODD"


@pytest.mark.parametrize("status", [500, 501, 502])
def test_5xx_becomes_dependency_unavailable(status: int) -> None:
    err = error_for_status(status, "down")
    assert type(err) is DependencyUnavailable
    assert err.status == 503
    assert err.code == "DEPENDENCY_UNAVAILABLE"


def test_a_504_stays_a_timeout() -> None:
    """A gRPC peer's DEADLINE_EXCEEDED (servicekit.grpc_errors) crosses the next HTTP hop as a 504."""
    err = error_for_status(504, "late")
    assert (type(err), err.status, err.code, isinstance(err, DependencyUnavailable)) == (
        UpstreamTimeout,
        504,
        "UPSTREAM_TIMEOUT",
        True,
    )


class InvalidSku(ValidationFailed):
    default_code = "INVALID_SKU"


def test_a_refused_field_is_named_in_the_details() -> None:
    err = InvalidSku.for_field("sku", "The SKU has a space.")
    assert type(err) is InvalidSku
    assert (err.status, err.code, err.message) == (422, "INVALID_SKU", "The SKU has a space.")
    assert err.details == [{"field": "sku", "message": "The SKU has a space."}]


def test_validator_errors_become_dotted_fields() -> None:
    errors: list[dict[str, object]] = [
        {"loc": ("body", "items", 0, "quantity"), "msg": "must be positive"},
        {"loc": ("orderId",), "msg": "Field required"},
    ]
    assert field_problems(errors) == [
        {"field": "body.items.0.quantity", "message": "must be positive"},
        {"field": "orderId", "message": "Field required"},
    ]
    assert field_problems(errors, skip="body")[0] == {"field": "items.0.quantity", "message": "must be positive"}
