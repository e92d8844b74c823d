"""The gateway's own refusals, and what a public client may see of a failure behind it (`public_error`).

Of its own, the gateway refuses a missing sign-in (`AuthRequired`), a missing admin role
(`AdminRoleRequired`) and a path that would not reach a peer as written (`InvalidPathParameter`), and a request for a
service its registry marks down (`ServiceDown`, a 503 with Retry-After, before any call).

A peer's refusal (a 4xx from its own envelope: a taken email, a field that is not valid) is that app's
public contract and crosses the edge with its code, message and details, less anything internal in
them. A failure (5xx: nobody answered, a sidecar, a store or a driver broke) crosses with its code and
a generic message only; the request id in the envelope finds the rest in the gateway's log.
"""

from __future__ import annotations

import re
from typing import Any

from servicekit import Forbidden, JunctionError, RateLimited, Unauthorized, ValidationFailed
from servicekit.errors import ServiceUnavailable, error_for_status

FAILURE_MESSAGE = "A service this request needs is unavailable; try again shortly."
REFUSAL_MESSAGE = "The request was refused."
FAILURE_CODE = "SERVICE_UNAVAILABLE"

# A safety net under the status rule: text that only Dapr, gRPC, Go's network stack, a traceback or a
# database driver writes. Junction's own messages never say these things.
_INTERNAL_TEXT = re.compile(
    r"\bERR_[A-Z_]+\b"  # Dapr's error codes
    r"|\bdaprd?\b|\bgrpc\b|rpc error|desc = "
    r"|connection refused|dial tcp|context deadline exceeded|no such host|i/o timeout"
    r"|Traceback \(most recent call last\)|File \"[^\"]*\", line \d+"
    r"|\w*(?:Operational|Integrity|Programming|Interface|Database|DBAPI)Error\b|sqlalche\.me|sqlite3\.|asyncpg\.",
    re.IGNORECASE,
)
_DROPPED = object()


class AuthRequired(Unauthorized):
    """Raised when a route that needs a signed-in user got no `Authorization: Bearer <token>`."""

    default_code = "AUTH_REQUIRED"


class AdminRoleRequired(Forbidden):
    """Raised when a route that needs the admin role is called by someone else."""

    default_code = "ADMIN_ONLY"


class InvalidPathParameter(ValidationFailed):
    """Raised when a path forwarded to a peer would not reach it as written (a NUL, a `..` segment)."""

    default_code = "INVALID_PATH_PARAMETER"


class ServiceDown(ServiceUnavailable):
    """Raised, without calling it, for a request to a service the registry marks down (apps.gateway.registry).

    `retry_after` is the registry's interval: by then a probe has looked again.
    """

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(FAILURE_MESSAGE)
        self.retry_after = retry_after


def is_internal(text: str) -> bool:
    """Whether text reads like Dapr's, gRPC's, a traceback's or a driver's rather than an app's."""
    return bool(_INTERNAL_TEXT.search(text))


def _scrub(value: Any) -> Any:
    """The value without anything internal in it; `_DROPPED` when nothing of it may go out."""
    if isinstance(value, str):
        return _DROPPED if is_internal(value) else value
    if isinstance(value, dict):
        if "errorCode" in value:  # the shape of Dapr's own error bodies
            return _DROPPED
        kept = {key: _scrub(item) for key, item in value.items() if not is_internal(str(key))}
        return {key: item for key, item in kept.items() if item is not _DROPPED}
    if isinstance(value, list | tuple):
        return [item for item in map(_scrub, value) if item is not _DROPPED]
    return value


def public_error(err: JunctionError) -> JunctionError:
    """The error as a public client may see it: `err` itself when nothing in it is internal."""
    if err.status >= 500:
        code = FAILURE_CODE if is_internal(err.code) else err.code
        if (code, err.message, err.details) == (err.code, FAILURE_MESSAGE, None):
            return err
        return _rebuilt(err, code, FAILURE_MESSAGE, None)
    code = type(err).default_code if is_internal(err.code) else err.code
    message = REFUSAL_MESSAGE if is_internal(err.message) else err.message
    details = _scrub(err.details)
    if details is _DROPPED or (details in ({}, []) and err.details not in ({}, [])):
        details = None  # everything in them was internal
    if (code, message, details) == (err.code, err.message, err.details):
        return err
    return _rebuilt(err, code, message, details)


def _rebuilt(err: JunctionError, code: str, message: str, details: Any) -> JunctionError:
    if isinstance(err, RateLimited):
        return RateLimited(message, retry_after=err.retry_after, code=code)
    rebuilt = error_for_status(err.status, message, code=code, details=details)
    rebuilt.status = err.status  # the class error_for_status picks may be wider (a 405 is a BadRequest)
    return rebuilt
