"""The door tests come in by: an app given its services serves them and connects nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from servicekit import DaprSidecar, ServiceSettings, create_sidecar_app, ok
from servicekit import app as servicekit_app

router = APIRouter()


@router.get("/served")
async def served(request: Request) -> JSONResponse:
    return ok({"services": request.app.state.services})


@asynccontextmanager
async def never_wired(app: FastAPI, sidecar: DaprSidecar) -> AsyncIterator[None]:
    raise AssertionError("an app given its services is never wired")
    yield  # pragma: no cover


def test_prebuilt_services_are_served_and_the_lifespan_connects_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sidecar(settings: ServiceSettings) -> DaprSidecar:
        raise AssertionError("no sidecar for an app given its services")

    def no_logging(*args: object) -> None:
        raise AssertionError("the logs of the test run stay as they are")

    monkeypatch.setattr(DaprSidecar, "from_settings", no_sidecar)
    monkeypatch.setattr(servicekit_app, "configure_logging", no_logging)
    app = create_sidecar_app(
        ServiceSettings(APP_ID="unit-test"), title="t", routers=[router], wire=never_wired, services="fakes"
    )
    assert TestClient(app).get("/served").json()["data"] == {"services": "fakes"}  # without its lifespan too
    with TestClient(app) as client:
        assert client.get("/served").json()["data"] == {"services": "fakes"}
        assert client.get("/readyz").json()["data"]["status"] == "ready"
        assert client.get("/dapr/subscribe").json() == []
