"""The gateway's own refusals; what it answers of a peer's errors is public_errors.py's."""

from __future__ import annotations

from servicekit import Forbidden, Unauthorized, ValidationFailed


class AuthRequired(Unauthorized):
    """Raised when a route that needs a signed-in user got no `Authorization: Bearer <token>`."""

    default_code = "AUTH_REQUIRED"


class AdminRoleRequired(Forbidden):
    """Raised when a route that needs the admin role is called by someone else."""

    default_code = "ADMIN_ONLY"


class InvalidPathParameter(ValidationFailed):
    """Raised when a path forwarded to a peer would not reach it as written (a NUL, a `..` segment)."""

    default_code = "INVALID_PATH_PARAMETER"
