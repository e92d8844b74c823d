"""gateway's composition root: settings -> sidecar, tokens, limiter, peers, registry, cache, feed, traces -> FastAPI
app, with the operator page (apps.gateway.ui) beside the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from math import ceil

from fastapi import FastAPI

from apps.gateway import ui
from apps.gateway.api import admin, auth, catalog, gateway, health, orders, tenants, traces
from apps.gateway.cache import product_reads
from apps.gateway.deps import GatewayServices
from apps.gateway.edge import RateLimitMiddleware
from apps.gateway.edge.headers import PathHeadersMiddleware
from apps.gateway.edge.ratelimit import RateLimiter
from apps.gateway.events import consumer
from apps.gateway.feed import FeedHub
from apps.gateway.peers import AppIds, Peers, RecentReport
from apps.gateway.peers.users import GrpcUserLookup
from apps.gateway.registry.refresher import refreshing, registry_for
from apps.gateway.settings import GatewaySettings
from apps.gateway.traces import JaegerTraceStore, NoTraceStore
from servicekit import DaprSidecar, create_sidecar_app
from servicekit.grpc_client import MeshChannel
from servicekit.health import sidecar_components
from servicekit.read_cache.users import identity_user_reads
from servicekit.tokens import SIGNING_KEY_SECRET, TokenCodec


def create_app(
    settings: GatewaySettings | None = None,
    *,
    services: GatewayServices | None = None,
    ui_files: ui.UiFiles | None = None,
) -> FastAPI:
    """The gateway; tests pass prebuilt `services`, and the operator page's files when not the installed ones."""
    settings = settings or GatewaySettings()
    limiter = RateLimiter.from_settings(settings.rate_limits_file, settings.rate_limit_storage_url)
    feed = services.feed if services is not None else feed_hub(settings)

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
        interval = settings.registry_interval_seconds
        registry = registry_for(apps, interval_seconds=interval)
        trace_store = jaeger_store(settings)
        peers = Peers(
            sidecar,
            apps,
            tuple(settings.health_apps),
            recent,
            users,
            registry,
            retry_after_seconds=ceil(interval),
            probe_timeout_seconds=min(settings.registry_probe_timeout_seconds, interval),
        )
        app.state.services = GatewayServices(
            peers=peers,
            tokens=tokens,
            limiter=limiter,
            components=sidecar_components(sidecar),
            reads=product_reads(settings, sidecar),
            profiles=identity_user_reads(settings, sidecar),
            feed=feed,
            traces=trace_store or NoTraceStore(),
        )
        app.state.checks["rate-limit counters"] = limiter.ready
        try:
            async with refreshing(peers, registry, interval_seconds=interval):
                yield
        finally:
            feed.close()  # `on_stop` closed it already under `serve`; under another server nothing may have
            await mesh.aclose()
            if trace_store is not None:
                await trace_store.aclose()

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
            traces.router,
            tenants.router,
            consumer.router(),
            ui.router(ui_files or ui.UiFiles.installed(), trace_ui_url=trace_ui_url(settings)),
        ],
        wire=wire,
        services=services,
        public=True,
        on_stop=[feed.close],  # its event streams never end by themselves: uvicorn would wait for them
        edge_middleware=[
            partial(RateLimitMiddleware, trusted_proxies=settings.trusted_proxies),
            partial(PathHeadersMiddleware, prefix=ui.PREFIX, headers=ui.HEADERS),
        ],
    )


def feed_hub(settings: GatewaySettings) -> FeedHub:
    """The live event feed's hub, bounded as the settings say."""
    return FeedHub(
        max_clients=settings.feed_max_clients,
        max_clients_per_subject=settings.feed_max_clients_per_subject,
        queue_size=settings.feed_queue_size,
        heartbeat_seconds=settings.feed_heartbeat_seconds,
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


def jaeger_store(settings: GatewaySettings) -> JaegerTraceStore | None:
    """The trace view's reader of Jaeger's query API (TRACE_QUERY_URL), or None when the gateway was given none."""
    if settings.trace_query_url is None:
        return None
    url = str(settings.trace_query_url).rstrip("/")
    return JaegerTraceStore.open(url, timeout_seconds=settings.trace_query_timeout_seconds, service=settings.app_id)


def trace_ui_url(settings: GatewaySettings) -> str | None:
    """The trace UI's address as the page joins paths to it (no trailing slash), or None."""
    return str(settings.trace_ui_url).rstrip("/") if settings.trace_ui_url is not None else None
