"""identity's settings: its database, token lifetime and the seeded development admin."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, model_validator

from servicekit import ServiceSettings

DEFAULT_ADMIN_EMAIL = "admin@junction.local"
DEFAULT_ADMIN_PASSWORD = "junction-admin"  # noqa: S105 - a development default, refused in production


class IdentitySettings(ServiceSettings):
    app_id: str = Field("identity", validation_alias=AliasChoices("APP_ID"))
    database_url: str = "sqlite+aiosqlite:///.data/identity.db"
    token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    admin_email: str = Field(DEFAULT_ADMIN_EMAIL, validation_alias=AliasChoices("JUNCTION_ADMIN_EMAIL"))
    admin_password: SecretStr = Field(
        SecretStr(DEFAULT_ADMIN_PASSWORD), validation_alias=AliasChoices("JUNCTION_ADMIN_PASSWORD")
    )

    @model_validator(mode="after")
    def _refuse_default_admin_in_production(self) -> IdentitySettings:
        defaults = (
            self.admin_email == DEFAULT_ADMIN_EMAIL or self.admin_password.get_secret_value() == DEFAULT_ADMIN_PASSWORD
        )
        if self.is_production and defaults:
            raise ValueError(
                "set JUNCTION_ADMIN_EMAIL and JUNCTION_ADMIN_PASSWORD: the defaults are refused in production"
            )
        return self
