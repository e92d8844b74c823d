"""identity's wire shapes (camelCase JSON)."""

from __future__ import annotations

from pydantic import Field

from apps.identity.domain import NAME_MAX, User
from servicekit.accounts import PASSWORD_MAX
from servicekit.schemas import Schema


class UserCreate(Schema):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    name: str = Field(min_length=1, max_length=NAME_MAX * 2)


class LoginRequest(Schema):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class UserRead(Schema):
    id: str
    email: str
    name: str
    role: str

    @classmethod
    def of(cls, user: User) -> UserRead:
        return cls(id=user.id, email=user.email, name=user.name, role=user.role.value)


class TokenRead(Schema):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
