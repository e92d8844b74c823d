"""The one error model of Junction.

Every failure a caller should understand is a ``JunctionError`` carrying a stable ``code``
and the HTTP status it maps to. Apps subclass the leaves with their own codes.

    JunctionError
     ├── BadRequest              400
     ├── Unauthorized            401
     ├── Forbidden               403
     ├── NotFound                404
     ├── Conflict                409
     │    ├── ETagMismatch        409  (a state write lost its race; retry_on_conflict redoes it)
     │    └── Contended           409  (retry_on_conflict gave up)
     ├── PayloadTooLarge         413
     ├── ValidationFailed        422
     ├── OperationFailed         424  (carried out, but it ended in a recorded failure)
     ├── RateLimited             429  (carries retry_after seconds)
     └── DependencyUnavailable   503  (a peer, a sidecar or a store did not answer)
          ├── ServiceUnavailable  503  (a peer's answer came from Dapr or the transport, not the app)
          └── UpstreamTimeout     504  (a peer's gRPC deadline passed: servicekit.grpc_errors)

A code is set one way: a subclass with its own ``default_code`` (``class OutOfStock(Conflict)``), raised
without a ``code=``. The kit's other leaves live beside what raises them (servicekit.sidecar_errors,
servicekit.database, servicekit.envelope, ...). ``code=`` is left for rebuilding an error that came over
the wire with its peer's code (``error_for_status``, ``servicekit.grpc_errors.error_of``).

A business outcome is never a 503: sidecars retry 503 and count it against a target's breaker,
so a retried "failed" outcome would run the request twice. 503 means only "nobody answered".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self


class JunctionError(Exception):
    """Base of every error that maps to an envelope.

    Raised as itself (INTERNAL_ERROR, 500) only for a crash nobody foresaw: the envelope's last handler
    answers an unhandled exception with it. Everything a caller should understand raises a subclass.
    """

    status: int = 500
    default_code: str = "INTERNAL_ERROR"
    retry_after: int | None = None
    """Seconds after which the caller may try again, sent as Retry-After (a 429; a 503 the gateway refused at once)."""

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details


class BadRequest(JunctionError):
    """Raised when a request is malformed in a way no field rule names (a body that is not JSON, a bad header).

    `error_for_status` also rebuilds any other 4xx a peer answered as one, keeping its code and status.
    """

    status = 400
    default_code = "BAD_REQUEST"


class Unauthorized(JunctionError):
    """Raised when a caller is not signed in: no token, an expired or invalid one, wrong credentials.

    Also when a call to an app did not come from its own sidecar (NOT_FROM_SIDECAR).
    """

    status = 401
    default_code = "UNAUTHORIZED"


class Forbidden(JunctionError):
    """Raised when a signed-in caller may not do this (not an admin, not the service allowed to call)."""

    status = 403
    default_code = "FORBIDDEN"


class NotFound(JunctionError):
    """Raised when the thing a request names does not exist, or is not the caller's to see."""

    status = 404
    default_code = "NOT_FOUND"


class Conflict(JunctionError):
    """Raised when a request clashes with the current state: a taken name, a move its lifecycle does not allow.

    Also a write that lost its ETag race (ETAG_MISMATCH; CONTENDED once `retry_on_conflict` gave up).
    """

    status = 409
    default_code = "CONFLICT"


class ETagMismatch(Conflict):
    """Raised when a state write lost an ETag or insert-only race; nothing was written.

    `retry_on_conflict` reads again and redoes the write; an event handler's delivery is retried.
    """

    default_code = "ETAG_MISMATCH"


class Contended(Conflict):
    """Raised when `retry_on_conflict` kept losing ETag races and gave up; nothing was written."""

    default_code = "CONTENDED"


class PayloadTooLarge(JunctionError):
    """Raised when a request body is larger than the app's limit (servicekit.middleware)."""

    status = 413
    default_code = "PAYLOAD_TOO_LARGE"


class ValidationFailed(JunctionError):
    """Raised when a value breaks a rule of the domain or of the request's schema; `details` names the fields.

    Also an event a handler cannot use (INVALID_PAYLOAD), which the consumer drops to the dead letters.
    """

    status = 422
    default_code = "VALIDATION_FAILED"

    @classmethod
    def for_field(cls, field: str, message: str) -> Self:
        """The refusal of one field's value; `details` names the field the way request validation does."""
        return cls(message, details=[{"field": field, "message": message}])


class OperationFailed(JunctionError):
    """Raised when a valid request was carried out but ended in a failure that is now on record.

    The resource says why (a tenant FAILED with its reason); repeating the same request does not
    help, the resource's own retry does. A 4xx, so it travels inside the mesh as a refusal.
    """

    status = 424
    default_code = "OPERATION_FAILED"


class RateLimited(JunctionError):
    """Raised when a client sent more requests than its limit allows; `retry_after` says when to come back.

    Not a refusal: it is answered with its real status everywhere, and an event handler retries it.
    """

    status = 429
    default_code = "RATE_LIMITED"
    retry_after: int

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, details={"retryAfter": retry_after})
        self.retry_after = retry_after


class DependencyUnavailable(JunctionError):
    """Raised when a peer, a sidecar or a store did not answer, in time or usably: the outcome is not known yet.

    The caller may try again (an event handler's delivery is retried); never a business outcome (see above).
    """

    status = 503
    default_code = "DEPENDENCY_UNAVAILABLE"


class ServiceUnavailable(DependencyUnavailable):
    """Raised when a peer did not answer as an app: Dapr or the transport answered in its place.

    Over HTTP an answer that is not an envelope (no such app, an access-control denial); over gRPC a failed
    call without the peer's `junction-code` (UNAVAILABLE, an unmapped status, a sidecar's refusal).
    """

    default_code = "SERVICE_UNAVAILABLE"


class UpstreamTimeout(DependencyUnavailable):
    """Raised when a peer reached over gRPC did not answer within the call's deadline (DEADLINE_EXCEEDED).

    A DependencyUnavailable like any 503, so every rule for one holds (retryable, never a business outcome);
    only its status says that the time ran out rather than that nobody answered.
    """

    status = 504
    default_code = "UPSTREAM_TIMEOUT"


_BY_STATUS: dict[int, type[JunctionError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        ValidationFailed,
        OperationFailed,
        DependencyUnavailable,
        UpstreamTimeout,
    )
}


TRANSIENT_CONFLICTS = frozenset({ETagMismatch.default_code, Contended.default_code})
"""409s that lost a write race and changed nothing: trying again later can succeed.

By code, not by class: a peer's CONTENDED arrives rebuilt as a plain Conflict (`error_for_status`)."""


def is_transient(err: JunctionError) -> bool:
    """Whether the same request may succeed later: a 5xx, a 429, or a lost write race."""
    return err.status >= 500 or err.status == 429 or err.code in TRANSIENT_CONFLICTS


def field_problems(errors: Iterable[Mapping[str, Any]], *, skip: str | None = None) -> list[dict[str, str]]:
    """A validator's errors (pydantic's `errors()`) as `details`: each field's dotted location and message.

    `skip` leaves a location part out, such as FastAPI's `body`.
    """
    return [
        {"field": ".".join(str(part) for part in e.get("loc", ()) if part != skip), "message": e.get("msg", "")}
        for e in errors
    ]


def error_for_status(status: int, message: str, *, code: str | None = None, details: Any = None) -> JunctionError:
    """Rebuild the error a peer answered with, keeping its code, so it crosses services unchanged."""
    if status == 429:
        retry = details.get("retryAfter", 1) if isinstance(details, dict) else 1
        return RateLimited(message, retry_after=int(retry), code=code)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = BadRequest if 400 <= status < 500 else DependencyUnavailable
    return cls(message, code=code, details=details)
