"""gateway's composition root: settings -> sidecar, tokens, limiter, peers, registry, cache, feed -> FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from apps.gateway.api import admin, auth, catalog, gateway, health, orders, tenants
from apps.gateway.cache import CachedReads, DaprStateReadCache, NoReadCache, ReadCache
from apps.gateway.deps import GatewayServices
from apps.gateway.edge import RateLimitMiddleware
from apps.gateway.edge.ratelimit import RateLimiter
from apps.gateway.events import consumer
from apps.gateway.feed import FeedHub
from apps.gateway.peers import AppIds, Peers, RecentReport
from apps.gateway.peers.users import GrpcUserLookup
from apps.gateway.registry.refresher import refreshing, registry_for
from apps.gateway.settings import GatewaySettings
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.grpc_client import MeshChannel
from servicekit.health import sidecar_components
from servicekit.tokens import SIGNING_KEY_SECRET, TokenCodec


def create_app(settings: GatewaySettings | None = None, *, services: GatewayServices | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    limiter = RateLimiter.from_settings(settings.rate_limits_file, settings.rate_limit_storage_url)

    @asynccontextmanager
    async def wire(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
        tokens = TokenCodec(await sidecar.get_secret(SIGNING_KEY_SECRET))
        recent = RecentReport(settings.health_report_max_age_seconds)
        token = settings.dapr_api_token
        mesh = MeshChannel.open(
            grpc_port=settings.dapr_grpc_port,
            api_token=token.get_secret_value() if token else None,
            deadline_seconds=settings.identity_deadline_seconds,
        )
        apps = app_ids(settings)
        users = GrpcUserLookup(mesh, identity_app_id=apps.identity)
        registry = registry_for(apps)
        interval = settings.registry_interval_seconds
        peers = Peers(
            sidecar,
            apps,
            tuple(settings.health_apps),
            recent,
            users,
            registry,
            probe_timeout_seconds=min(settings.registry_probe_timeout_seconds, interval),
        )
        feed = FeedHub(
            max_clients=settings.feed_max_clients,
            queue_size=settings.feed_queue_size,
            heartbeat_seconds=settings.feed_heartbeat_seconds,
        )
        app.state.services = GatewayServices(
            peers=peers,
            tokens=tokens,
            limiter=limiter,
            components=sidecar_components(sidecar),
            reads=cached_reads(settings, sidecar),
            feed=feed,
        )
        app.state.checks["rate-limit counters"] = limiter.ready
        try:
            async with refreshing(peers, registry, interval_seconds=interval):
                yield
        finally:
            feed.close()  # a server that stopped them already (`EventStream`) finds none; another may not have
            await mesh.aclose()

    return create_sidecar_app(
        settings,
        title="Junction gateway",
        routers=[
            auth.router,
            health.router,
            gateway.router,
            catalog.router,
            orders.router,
            admin.router,
            tenants.router,
            consumer.router(),
        ],
        wire=wire,
        services=services,
        public=True,
        edge_middleware=[partial(RateLimitMiddleware, trusted_proxies=settings.trusted_proxies)],
    )


def app_ids(settings: GatewaySettings) -> AppIds:
    """The app ids of the services the gateway calls, as its settings name them."""
    return AppIds(
        identity=settings.identity_app_id,
        catalog=settings.catalog_app_id,
        orders=settings.orders_app_id,
        payments=settings.payments_app_id,
        notifications=settings.notifications_app_id,
        analytics=settings.analytics_app_id,
        admin=settings.admin_app_id,
    )


def cached_reads(settings: GatewaySettings, sidecar: DaprSidecar) -> CachedReads:
    """The product reads' cache in the gateway's own state, or none when its TTL is 0."""
    timeout = settings.catalog_read_timeout_seconds
    cache: ReadCache = NoReadCache()
    if settings.product_cache_ttl_seconds > 0:
        cache = DaprStateReadCache(
            sidecar,
            ttl_seconds=settings.product_cache_ttl_seconds,
            fill_seconds=timeout,
            store=settings.statestore_name,
        )
    return CachedReads(cache=cache, owner_timeout_seconds=timeout)
