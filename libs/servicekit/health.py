"""Liveness (`/healthz`) and readiness (`/readyz`: the sidecar and the app's own stores)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.envelope import error_response, ok
from servicekit.errors import DependencyUnavailable
from servicekit.sidecar import DaprSidecar, SidecarClient

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the thing it checks is not usable."""


class NotReady(DependencyUnavailable):
    """Answered by `/readyz` when a readiness check failed; `details.checks` says which (unless not detailed)."""

    default_code = "NOT_READY"


CHECK_TIMEOUT_SECONDS = 2.0


def sidecar_check(sidecar: SidecarClient) -> ReadinessCheck:
    async def check() -> None:
        if not await sidecar.outbound_ready():
            raise RuntimeError("the sidecar is not ready")

    return check


def database_check(engine: AsyncEngine) -> ReadinessCheck:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


async def _run(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # a readiness probe reports every failure, it never raises
        return f"failed: {type(exc).__name__}: {exc}"[:300]
    return "ok"


ComponentList = Callable[[], Awaitable[list[dict[str, Any]]]]


def sidecar_components(sidecar: DaprSidecar) -> ComponentList:
    """List the components the sidecar loaded (name, type, version) for the detailed health view."""

    async def components() -> list[dict[str, Any]]:
        return await sidecar.components()

    return components


def health_router(
    checks: Callable[[], Mapping[str, ReadinessCheck]],
    components: Callable[[], ComponentList | None],
    *,
    detailed: bool = True,
    refusals_as_200: bool = False,
) -> APIRouter:
    """Build the two probes; both callables are read per call so the lifespan can fill them in.

    `detailed` readiness names each check's result and the sidecar's components; a public app (the
    gateway, whose port faces clients) says only ready or not, and admins read the details elsewhere.
    With `refusals_as_200` (an app behind a sidecar, whose `/readyz` only its sidecar may call), NOT_READY
    travels as every dependency's 503 does inside the mesh: HTTP 200, the 503 in the envelope and in
    X-Junction-Status. A caller's sidecar then counts no failure of an app that answered (a 503 would be
    retried and open the caller's breaker towards it), and a gRPC app's answer crosses Dapr's bridge whole.
    """
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def liveness() -> JSONResponse:
        return ok({"status": "ok"})

    @router.get("/readyz", responses={503: {"description": "A check failed: not ready (the error envelope)"}})
    async def readiness() -> JSONResponse:
        named = dict(checks())
        results = await asyncio.gather(*(_run(check) for check in named.values()))
        report: dict[str, Any] = dict(zip(named, results, strict=True))
        if not all(result == "ok" for result in results):
            details = {"checks": report} if detailed else None
            return error_response(NotReady("Not ready.", details=details), refusals_as_200=refusals_as_200)
        if not detailed:
            return ok({"status": "ready"})
        listed = components()
        loaded = await asyncio.wait_for(listed(), CHECK_TIMEOUT_SECONDS) if listed else []
        return ok({"status": "ready", "checks": report, "components": loaded})

    return router
