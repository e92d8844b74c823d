"""orders' settings: its database, its peers, and how long an order may stay unpaid."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from servicekit import ServiceSettings


class OrdersSettings(ServiceSettings):
    app_id: str = Field("orders", validation_alias=AliasChoices("APP_ID"))
    database_url: str = "sqlite+aiosqlite:///.data/orders.db"
    identity_app_id: str = "identity"
    catalog_app_id: str = "catalog"
    payment_timeout_seconds: int = Field(900, ge=1, le=7 * 86400)
    expiry_batch: int = Field(100, ge=1, le=1000)
    outbox_relay: bool = True
