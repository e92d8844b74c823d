"""A minimal service app built the way every Junction app is, for exercising servicekit's edges; metric samples."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY

from servicekit import ReadinessCheck, ServiceSettings, create_service_app


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


def _no_checks(_: FastAPI) -> Mapping[str, ReadinessCheck]:
    return {}


def build_app(routers: Sequence[APIRouter] = (), *, public: bool = False, **settings: Any) -> FastAPI:
    """Assemble a service app with a trivial lifespan and no readiness checks.

    Like create_service_app, it builds an app inside the mesh unless `public`: such an app answers
    business refusals (4xx but 429) with HTTP 200 and the real status in the envelope's `statusCode`.
    """
    return create_service_app(
        ServiceSettings(APP_ID="unit-test", **settings),
        title="unit test",
        lifespan=_lifespan,
        routers=list(routers),
        readiness=_no_checks,
        public=public,
    )


def sample(name: str, **labels: str) -> float:
    """A sample's current value in the process's metrics registry; 0 when it was never recorded."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
