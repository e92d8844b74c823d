"""The public request shapes; the gateway validates them before any call crosses the mesh."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PublicSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(PublicSchema):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=8, max_length=128)
    name: str = Field(min_length=1, max_length=100)


class LoginRequest(PublicSchema):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)
