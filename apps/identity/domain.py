"""Users: the pure model, its commands, events and errors. No web, no sidecar, no database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from servicekit import Conflict, NotFound, Unauthorized, ValidationFailed

NAME_MAX = 100
"""The longest display name a user may have; servicekit.accounts checks names, emails and passwords."""


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class EmailTaken(Conflict):
    """Raised when someone registers an email that already has an account."""

    default_code = "EMAIL_TAKEN"


class InvalidCredentials(Unauthorized):
    """Raised when someone signs in with a wrong email or password (which one is not said)."""

    default_code = "INVALID_CREDENTIALS"


class UserNotFound(NotFound):
    """Raised when no user has the id asked for (over gRPC, `Users` answers NOT_FOUND)."""

    default_code = "USER_NOT_FOUND"


class InvalidUserId(ValidationFailed):
    """Raised when `Users` over gRPC gets an id no account can have (INVALID_ARGUMENT)."""

    default_code = "INVALID_USER_ID"


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
