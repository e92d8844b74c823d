"""catalog's settings: only what every app has; its data lives in the `statestore` component."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings


class CatalogSettings(ServiceSettings):
    app_id: str = Field("catalog", validation_alias=AliasChoices("APP_ID"))
