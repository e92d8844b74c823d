"""Users: the pure model, its commands, events and errors. No web, no sidecar, no database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import email_validator
from email_validator import EmailNotValidError, validate_email

from servicekit import Conflict, NotFound, Unauthorized, ValidationFailed

PASSWORD_MIN, PASSWORD_MAX = 8, 128
NAME_MAX = 100


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class EmailTaken(Conflict):
    default_code = "EMAIL_TAKEN"


class InvalidCredentials(Unauthorized):
    default_code = "INVALID_CREDENTIALS"


class UserNotFound(NotFound):
    default_code = "USER_NOT_FOUND"


@dataclass(frozen=True)
class RegisterUser:
    """Command: open an account."""

    email: str
    password: str
    name: str
    role: Role = Role.CUSTOMER
    idempotency_key: str | None = None
    """The caller's key for this registration: repeating it answers the account it opened."""


@dataclass(frozen=True)
class Authenticate:
    """Command: exchange credentials for an access token."""

    email: str
    password: str


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: Role
    password_hash: str
    created_at: datetime
    creation_key: str | None = None
    """The Idempotency-Key of the registration that opened the account, if it had one."""

    def opened_by(self, command: RegisterUser) -> bool:
        """True when this account is what `command` (a repeat of its registration) opened."""
        return command.idempotency_key is not None and command.idempotency_key == self.creation_key


@dataclass(frozen=True)
class UserRegistered:
    """Event: a new account exists."""

    user_id: str
    email: str
    name: str
    role: Role

    topic = "user.registered"

    def payload(self) -> dict[str, str]:
        return {"userId": self.user_id, "email": self.email, "name": self.name, "role": self.role.value}


def allow_local_email_domains() -> None:
    """Accept `.local` addresses (the development admin's) the way email-validator documents it."""
    if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")


def normalise_email(raw: str) -> str:
    """Validate an address's syntax and return it in one canonical, lower-case form."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(
            str(exc), code="INVALID_EMAIL", details=[{"field": "email", "message": str(exc)}]
        ) from exc


def check_password_policy(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        message = f"The password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters."
        raise ValidationFailed(message, code="WEAK_PASSWORD", details=[{"field": "password", "message": message}])


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not 1 <= len(name) <= NAME_MAX:
        message = f"The name must have 1 to {NAME_MAX} characters."
        raise ValidationFailed(message, code="INVALID_NAME", details=[{"field": "name", "message": message}])
    return name


def new_user(command: RegisterUser, *, email: str, name: str, password_hash: str) -> tuple[User, UserRegistered]:
    """Create the user an accepted registration describes, and the event that announces it."""
    user = User(
        id=uuid.uuid4().hex,
        email=email,
        name=name,
        role=command.role,
        password_hash=password_hash,
        created_at=datetime.now(UTC),
        creation_key=command.idempotency_key,
    )
    return user, UserRegistered(user.id, user.email, user.name, user.role)
