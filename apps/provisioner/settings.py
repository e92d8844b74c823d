"""provisioner's settings: who may call it and where its shared key lives."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings
from servicekit.provisioning import PROVISIONING_SECRETSTORE


class ProvisionerSettings(ServiceSettings):
    app_id: str = Field("provisioner", validation_alias=AliasChoices("APP_ID"))
    admin_app_id: str = Field("admin", min_length=1)
    """The only app whose calls are served (Dapr's `dapr-caller-app-id`)."""
    provisioning_secretstore_name: str = Field(PROVISIONING_SECRETSTORE, min_length=1)
    """The Dapr secret store holding `provisioner-key`, shared with admin only."""
