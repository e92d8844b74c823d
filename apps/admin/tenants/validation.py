"""What a new tenant's subdomain must look like; its name, email and password follow servicekit.accounts."""

from __future__ import annotations

import re

from servicekit import ValidationFailed

NAME_MAX = 200
"""The longest school name (any script, printable characters only)."""
RESERVED_SUBDOMAINS = frozenset(
    {"www", "api", "admin", "app", "mail", "ftp", "static", "assets", "status", "root", "junction"}
)
# A DNS label: 3-63 lower-case letters, digits and hyphens, no hyphen at either end.
_DNS_LABEL = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


class InvalidSubdomain(ValidationFailed):
    """Raised when a new tenant's subdomain is reserved, or not a DNS label of 3 to 63 a-z, 0-9 or hyphens."""

    default_code = "INVALID_SUBDOMAIN"


def valid_subdomain(raw: str) -> str:
    if not _DNS_LABEL.fullmatch(raw):
        message = (
            "The subdomain must have 3 to 63 lower-case letters, digits or hyphens, "
            "and must not start or end with a hyphen."
        )
        raise InvalidSubdomain.for_field("subdomain", message)
    if raw in RESERVED_SUBDOMAINS:
        message = f"The subdomain {raw} is reserved."
        raise InvalidSubdomain.for_field("subdomain", message)
    return raw
