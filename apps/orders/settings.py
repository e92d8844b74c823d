"""orders' settings: its database, its peers, its cache of users, and how long an order may stay placing or unpaid."""

from __future__ import annotations

from typing import Self

from pydantic import AliasChoices, Field, model_validator

from servicekit.read_cache.users import UserReadSettings


class OrdersSettings(UserReadSettings):
    app_id: str = Field("orders", validation_alias=AliasChoices("APP_ID"))
    database_url: str = "sqlite+aiosqlite:///.data/orders.db"
    catalog_app_id: str = "catalog"
    payment_timeout_seconds: int = Field(900, ge=1, le=7 * 86400)
    # Placing gives up after its budget (a 503: the same Idempotency-Key completes it later). It covers
    # the user check and the reserve with their sidecar retries (2 x 6.5 s in the resiliency YAML) and
    # stays under the gateway->orders `placing` timeout (20 s), so orders answers before its caller gives up.
    place_budget_seconds: float = Field(15.0, gt=0, le=300)
    # A PLACING order older than this is reaped (its reservation released): it must outlive the budget,
    # so no placement that is still allowed to run is ever closed under it.
    placing_deadline_seconds: float = Field(60.0, gt=0, le=86400)
    expiry_batch: int = Field(100, ge=1, le=1000)
    outbox_relay: bool = True

    @model_validator(mode="after")
    def _deadline_outlives_budget(self) -> Self:
        if self.placing_deadline_seconds <= self.place_budget_seconds:
            raise ValueError("PLACING_DEADLINE_SECONDS must be longer than PLACE_BUDGET_SECONDS")
        return self
