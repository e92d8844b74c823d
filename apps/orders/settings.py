"""orders' settings: its database, its peers, its cache of users, and how long an order may stay placing or unpaid."""

from __future__ import annotations

from typing import Self

from pydantic import AliasChoices, Field, model_validator

from servicekit import ServiceSettings


class OrdersSettings(ServiceSettings):
    app_id: str = Field("orders", validation_alias=AliasChoices("APP_ID"))
    database_url: str = "sqlite+aiosqlite:///.data/orders.db"
    identity_app_id: str = "identity"
    identity_deadline_seconds: float = Field(7.0, gt=0, le=60)
    """The deadline of a gRPC call to identity: a little over the leaf budget its sidecar may spend on it
    (3 attempts x 2 s + backoff = 6.5 s, components/common/resiliency.yaml), so the sidecar's policy decides."""
    user_cache_fresh_seconds: int = Field(300, ge=0, le=86400)
    """A user identity confirmed this recently is not asked about again (five minutes); 0: always asked."""
    user_cache_ttl_seconds: int = Field(86400, ge=0, le=30 * 86400)
    """How long identity's confirmation is kept (`ttlInSeconds`), to accept the user while identity does not
    answer (apps.orders.peers); 0 turns the cache off. Stock is never cached: placing always asks catalog."""
    read_cache_io_timeout_seconds: float = Field(0.5, gt=0, le=5)
    """How long the user cache's lookup, and its keep, may take in the state store; past it the check goes on
    without the copy (identity is asked, the answer is not kept)."""
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
