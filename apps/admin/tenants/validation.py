"""What a new tenant's fields must look like, each refusal with its own code."""

from __future__ import annotations

import re
import unicodedata

import email_validator
from email_validator import EmailNotValidError, validate_email

from servicekit import ValidationFailed

NAME_MAX = 200
PASSWORD_MIN, PASSWORD_MAX = 8, 128
RESERVED_SUBDOMAINS = frozenset(
    {"www", "api", "admin", "app", "mail", "ftp", "static", "assets", "status", "root", "junction"}
)
# A DNS label: 3-63 lower-case letters, digits and hyphens, no hyphen at either end.
_DNS_LABEL = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


class InvalidSubdomain(ValidationFailed):
    default_code = "INVALID_SUBDOMAIN"


class InvalidName(ValidationFailed):
    default_code = "INVALID_NAME"


class InvalidEmail(ValidationFailed):
    default_code = "INVALID_EMAIL"


class WeakPassword(ValidationFailed):
    default_code = "WEAK_PASSWORD"


def _field(name: str, message: str) -> list[dict[str, str]]:
    return [{"field": name, "message": message}]


def valid_subdomain(raw: str) -> str:
    if not _DNS_LABEL.fullmatch(raw):
        message = (
            "The subdomain must have 3 to 63 lower-case letters, digits or hyphens, "
            "and must not start or end with a hyphen."
        )
        raise InvalidSubdomain(message, details=_field("subdomain", message))
    if raw in RESERVED_SUBDOMAINS:
        message = f"The subdomain {raw} is reserved."
        raise InvalidSubdomain(message, details=_field("subdomain", message))
    return raw


def clean_name(raw: str) -> str:
    """Trim and collapse whitespace; any script is welcome, control characters are not."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not 1 <= len(name) <= NAME_MAX or any(unicodedata.category(c) == "Cc" for c in name):
        message = f"The name must have 1 to {NAME_MAX} printable characters."
        raise InvalidName(message, details=_field("name", message))
    return name


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc), details=_field("adminEmail", str(exc))) from exc


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        message = f"The password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters."
        raise WeakPassword(message, details=_field("adminPassword", message))


def allow_local_email_domains() -> None:
    """Accept `.local` addresses in development, as identity does for its seeded admin."""
    if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")
