"""Keep the registry fresh: probe every service's readiness (`Peers.probe`) on an interval, in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from apps.gateway.peers import AppIds, Peers
from apps.gateway.registry.domain import ServiceRegistry
from servicekit.tasks import every

ROUTE_PREFIXES: dict[str, tuple[str, ...]] = {
    "identity": ("/api/v1/auth", "/api/v1/users"),
    "catalog": ("/api/v1/products",),
    "orders": ("/api/v1/orders",),
    "payments": ("/api/v1/payments",),
    "notifications": ("/api/v1/notifications",),
    "analytics": ("/api/v1/reports",),
    "admin": ("/api/v1/tenants", "/api/v1/admin/dead-letters"),
}
"""The public routes each service answers, by its role in AppIds (/admin/dashboard asks several)."""


def registry_for(apps: AppIds, *, interval_seconds: float = 2.0) -> ServiceRegistry:
    """A registry of every service the gateway routes to, under the app ids its settings name; a service that
    answered within one probe interval is never marked down."""
    routes = {getattr(apps, role): prefixes for role, prefixes in ROUTE_PREFIXES.items()}
    return ServiceRegistry(routes, answered_within=timedelta(seconds=interval_seconds))


async def probe_all(peers: Peers, registry: ServiceRegistry) -> None:
    """One round: probe every service in parallel (`Peers.probe`)."""
    await asyncio.gather(*(peers.probe(name) for name in registry.names))


@asynccontextmanager
async def refreshing(peers: Peers, registry: ServiceRegistry, *, interval_seconds: float) -> AsyncIterator[None]:
    """Probe every service once per interval (start to start) in the background while the block runs."""
    async with every(interval_seconds, lambda: probe_all(peers, registry), name="gateway-registry"):
        yield
