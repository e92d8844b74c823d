"""gateway's settings: the apps behind it, the proxies it trusts, its read caches, its rate-limit tiers and counters."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, HttpUrl, field_validator

from apps.gateway.edge.forwarded import IPNetwork
from servicekit.read_cache.users import UserReadSettings

HERE = Path(__file__).parent


class GatewaySettings(UserReadSettings):
    app_id: str = Field("gateway", validation_alias=AliasChoices("APP_ID"))
    public_host: str = "127.0.0.1"
    trusted_proxies: list[IPNetwork] = []
    """Proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES='["10.0.0.0/8", "192.0.2.7"]').

    Empty by default: every peer is the client, whatever it forwards. List only proxies that
    append the address they were called from; the limiter then counts the address they report."""
    # The longest call behind the edge is creating a tenant: 2 x 75 s + 0.2 s (resiliency.yaml).
    sidecar_timeout_seconds: float = Field(155.0, gt=0)
    catalog_app_id: str = "catalog"
    orders_app_id: str = "orders"
    payments_app_id: str = "payments"
    notifications_app_id: str = "notifications"
    analytics_app_id: str = "analytics"
    admin_app_id: str = "admin"
    health_apps: list[str] = [
        "identity",
        "catalog",
        "orders",
        "payments",
        "notifications",
        "analytics",
        "admin",
        "provisioner",
    ]
    health_report_max_age_seconds: float = Field(1.0, ge=0)
    """Anonymous health answers from one shared round of readiness calls at most this old."""
    registry_interval_seconds: float = Field(2.0, gt=0, le=60)
    """How often the registry probes every service; one that stops answering is refused within about two."""
    registry_probe_timeout_seconds: float = Field(1.5, gt=0, le=60)
    """How long one probe waits for a readiness answer (never longer than the interval)."""
    product_cache_ttl_seconds: int = Field(300, ge=0, le=86400)
    """How long a product or a page of the list stays cached (`ttlInSeconds`); 0 turns the cache off."""
    catalog_read_timeout_seconds: float = Field(7.0, gt=0, le=60)
    """How long a cached read waits for catalog before a copy answers stale: a little over catalog's budget (6.5 s)."""
    feed_max_clients: int = Field(20, ge=1, le=1000)
    """How many clients the live event feed serves at once; one more is answered 503."""
    feed_max_clients_per_subject: int = Field(3, ge=1, le=1000)
    """How many of those one token's user (its subject) may hold; one more is answered 429."""
    feed_queue_size: int = Field(256, ge=1, le=100_000)
    """Items queued per feed client; when full, the oldest go and the client is told how many it missed."""
    feed_heartbeat_seconds: float = Field(15.0, gt=0, le=300)
    """A keep-alive comment on a feed stream silent this long, so proxies keep the connection."""
    trace_query_url: HttpUrl | None = None
    """Jaeger's HTTP query API as the gateway reaches it (`make run` and the harness set it): the operator page's
    trace view reads traces through the gateway from there. Unset, `/api/v1/admin/traces` answers 503."""
    trace_query_timeout_seconds: float = Field(2.0, gt=0, le=30)
    """How long one read from the trace backend may take before the trace view answers 503."""
    trace_ui_url: HttpUrl | None = None
    """The trace backend's own UI as a browser reaches it (a Jaeger with its UI: `make run` and the harness set
    it); the operator page links each trace there too. Unset, the page shows no such link."""
    rate_limits_file: Path = HERE / "ratelimits.yaml"
    rate_limit_storage_url: str = "memory://"

    @field_validator("trace_query_url", "trace_ui_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # TRACE_UI_URL= (empty) leaves the trace links out, as unset does

    @field_validator("trusted_proxies")
    @classmethod
    def _refuse_trusting_everyone(cls, proxies: list[IPNetwork]) -> list[IPNetwork]:
        if any(network.prefixlen == 0 for network in proxies):
            raise ValueError("TRUSTED_PROXIES may not contain a /0 network: every client could name itself")
        return proxies
