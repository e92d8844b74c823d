"""The services behind the gateway, reached through its sidecar."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from servicekit import JunctionError, SidecarClient, ValidationFailed

# What may appear in a forwarded path once its parameters are quoted: RFC 3986 unreserved, `%`, `/`.
_URL_PATH = re.compile(r"^[A-Za-z0-9\-._~%/]*$")


def segment(value: str) -> str:
    """Quote one path parameter for a peer's URL: `/`, `?`, `#`, `%` and NUL stay data, never syntax."""
    return quote(value, safe="")


def check_path(path: str) -> str:
    """Refuse, as bad input, a forwarded path that would not reach the peer as written.

    A safety net under the routes' own validation: an unquoted NUL would crash the HTTP client, and a
    `..` segment would be normalised into another route of the peer.
    """
    if not _URL_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise ValidationFailed("A path parameter is not a valid id.", code="INVALID_PATH_PARAMETER")
    return path


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
        """Invoke a peer; the path's parameters must already be quoted (`segment`)."""
        return await self.sidecar.invoke(app, method, check_path(path), **kwargs)

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
