"""What a person's email, password and name must look like, each refusal with its own code (422).

identity checks them when someone registers; admin when it opens a school for its first administrator.
Each app names its own fields (`email` or `adminEmail`) and its longest name; the rules are these.
"""

from __future__ import annotations

import unicodedata

import email_validator
from email_validator import EmailNotValidError, validate_email

from servicekit.errors import ValidationFailed

PASSWORD_MIN, PASSWORD_MAX = 8, 128


class InvalidEmail(ValidationFailed):
    """Raised when an address is not an email address (its syntax; nobody asks the domain)."""

    default_code = "INVALID_EMAIL"


class WeakPassword(ValidationFailed):
    """Raised when a password is shorter than PASSWORD_MIN or longer than PASSWORD_MAX characters."""

    default_code = "WEAK_PASSWORD"


class InvalidName(ValidationFailed):
    """Raised when a name is empty or too long once its whitespace is collapsed (or, if asked, not printable)."""

    default_code = "INVALID_NAME"


def allow_local_email_domains() -> None:
    """Accept `.local` addresses (the development admin's) the way email-validator documents it."""
    if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")


def normalise_email(raw: str, *, field: str = "email") -> str:
    """Validate an address's syntax and return it in one canonical, lower-case form."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidEmail.for_field(field, str(exc)) from exc


def check_password(password: str, *, field: str = "password") -> None:
    """Refuse a password outside PASSWORD_MIN to PASSWORD_MAX characters."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        message = f"The password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters."
        raise WeakPassword.for_field(field, message)


def clean_name(raw: str, *, longest: int, printable: bool = False, field: str = "name") -> str:
    """Collapse whitespace and check the length; `printable` also composes (NFC) and refuses control characters."""
    if printable:
        name = " ".join(unicodedata.normalize("NFC", raw).split())
        refused = any(unicodedata.category(c) == "Cc" for c in name)
    else:
        name, refused = " ".join(raw.split()), False
    if refused or not 1 <= len(name) <= longest:
        message = f"The name must have 1 to {longest} {'printable ' if printable else ''}characters."
        raise InvalidName.for_field(field, message)
    return name
