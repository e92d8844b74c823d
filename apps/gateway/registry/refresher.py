"""Keep the registry fresh: probe every service's readiness (`Peers.ready`) on an interval, in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from apps.gateway.errors import public_error
from apps.gateway.peers import AppIds, Peers
from apps.gateway.registry.domain import ServiceRegistry
from servicekit import JunctionError
from servicekit.clock import utc_now
from servicekit.sidecar_errors import BreakerOpen, SidecarCallTimeout, SidecarUnreachable

log = logging.getLogger("gateway.registry")

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


def registry_for(apps: AppIds) -> ServiceRegistry:
    """A registry of every service the gateway routes to, under the app ids its settings name."""
    return ServiceRegistry({getattr(apps, role): prefixes for role, prefixes in ROUTE_PREFIXES.items()})


async def probe(peers: Peers, registry: ServiceRegistry, name: str, *, timeout_seconds: float) -> None:
    """Ask one service for its readiness and record the answer; a failure to reach our own sidecar records nothing."""
    try:
        async with asyncio.timeout(timeout_seconds):
            await peers.ready(name)
    except TimeoutError:
        registry.probe_failed(name, at=utc_now(), code=SidecarCallTimeout.default_code)
    except SidecarUnreachable:
        log.warning("the gateway's sidecar is not reachable; the registry keeps what it last saw")
    except JunctionError as failure:
        code = public_error(failure).code
        registry.probe_failed(name, at=utc_now(), code=code, breaker_open=isinstance(failure, BreakerOpen))
    else:
        registry.probe_succeeded(name, at=utc_now())


RECHECK_TICK_SECONDS = 0.1
"""How often, between rounds, the refresher looks for services a refused request asked it to recheck."""


async def refresh(peers: Peers, registry: ServiceRegistry, *, interval_seconds: float, timeout_seconds: float) -> None:
    """Probe every service in parallel, one round per interval (start to start), until cancelled.

    Between rounds, the services refused requests asked about (`ServiceRegistry.refused`) are probed at once.
    """

    async def probe_all(names: tuple[str, ...]) -> None:
        try:
            await asyncio.gather(*(probe(peers, registry, n, timeout_seconds=timeout_seconds) for n in names))
        except Exception:  # a bug in one round must not stop the next
            log.exception("a registry round failed")

    while True:
        started = time.monotonic()
        registry.take_rechecks()  # this round probes them all
        await probe_all(registry.names)
        while (left := interval_seconds - (time.monotonic() - started)) > 0:
            await asyncio.sleep(min(RECHECK_TICK_SECONDS, left))
            if rechecks := registry.take_rechecks():
                await probe_all(rechecks)


@asynccontextmanager
async def refreshing(
    peers: Peers, registry: ServiceRegistry, *, interval_seconds: float, timeout_seconds: float
) -> AsyncIterator[None]:
    """Run `refresh` in the background while the block runs; cancel it on the way out."""
    task = asyncio.create_task(
        refresh(peers, registry, interval_seconds=interval_seconds, timeout_seconds=timeout_seconds),
        name="gateway-registry",
    )
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
