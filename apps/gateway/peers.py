"""The services behind the gateway, reached through its sidecar."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from servicekit import JunctionError, SidecarClient


@dataclass(frozen=True)
class AppIds:
    identity: str = "identity"
    catalog: str = "catalog"
    orders: str = "orders"
    payments: str = "payments"
    notifications: str = "notifications"
    analytics: str = "analytics"
    admin: str = "admin"


@dataclass(frozen=True)
class Peers:
    sidecar: SidecarClient
    apps: AppIds
    health_apps: tuple[str, ...]

    async def call(self, app: str, method: str, path: str, **kwargs: Any) -> Any:
        return await self.sidecar.invoke(app, method, path, **kwargs)

    async def readiness(self) -> dict[str, Any]:
        """Ask every app behind the gateway for its readiness, in parallel."""

        async def one(app_id: str) -> dict[str, Any]:
            try:
                report = await self.sidecar.invoke(app_id, "GET", "/readyz")
            except JunctionError as exc:
                return {"status": "unavailable", "error": {"code": exc.code, "message": exc.message}}
            return {**report, "status": "ok"}

        results = await asyncio.gather(*(one(app_id) for app_id in self.health_apps))
        return dict(zip(self.health_apps, results, strict=True))


async def sections(calls: dict[str, Awaitable[Any]]) -> dict[str, Any]:
    """Run calls in parallel; each section says `ok` with its data or `unavailable` with why."""

    async def one(call: Awaitable[Any]) -> dict[str, Any]:
        try:
            return {"status": "ok", "data": await call}
        except JunctionError as exc:
            return {"status": "unavailable", "error": {"code": exc.code, "message": exc.message}}

    results = await asyncio.gather(*(one(call) for call in calls.values()))
    return dict(zip(calls, results, strict=True))
