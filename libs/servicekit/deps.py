"""FastAPI dependencies every app shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request

S = TypeVar("S")


def services_of(kind: type[S]) -> Callable[[Request], Awaitable[S]]:
    """A dependency returning the services the app's lifespan built (async: no thread-pool hop)."""

    async def resolve(request: Request) -> S:
        services: S = request.app.state.services
        return services

    resolve.__name__ = f"{kind.__name__.lower()}_services"
    return resolve
