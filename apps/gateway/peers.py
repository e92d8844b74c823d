"""The services behind the gateway, reached through its sidecar."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from servicekit import JunctionError, SidecarClient


@dataclass(frozen=True)
class Peers:
    sidecar: SidecarClient
    identity: str
    health_apps: tuple[str, ...]

    async def register(self, body: dict[str, Any]) -> Any:
        return await self.sidecar.invoke(self.identity, "POST", "/users", json=body)

    async def login(self, body: dict[str, Any]) -> Any:
        return await self.sidecar.invoke(self.identity, "POST", "/sessions", json=body)

    async def user(self, user_id: str) -> Any:
        return await self.sidecar.invoke(self.identity, "GET", f"/users/{user_id}")

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
