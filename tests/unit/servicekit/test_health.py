"""Readiness: a failed check answers NOT_READY; inside the mesh as a dependency's 503 travels (HTTP 200)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from servicekit.envelope import REFUSAL_STATUS_HEADER
from servicekit.health import ReadinessCheck, health_router


async def _broken() -> None:
    raise RuntimeError("the database is gone")


async def _fine() -> None:
    return None


def _client(check: ReadinessCheck, *, refusals_as_200: bool) -> TestClient:
    app = FastAPI()
    app.include_router(health_router(lambda: {"database": check}, lambda: None, refusals_as_200=refusals_as_200))
    return TestClient(app)


def test_behind_a_sidecar_not_ready_is_an_answer_whose_503_is_in_the_envelope() -> None:
    with _client(_broken, refusals_as_200=True) as client:
        answer = client.get("/readyz")
    # A real 503 would be retried by the caller's sidecar and count towards its breaker, though the app answered.
    assert answer.status_code == 200
    assert answer.headers[REFUSAL_STATUS_HEADER] == "503"
    body = answer.json()
    assert (body["success"], body["statusCode"], body["error"]["code"]) == (False, 503, "NOT_READY")
    assert body["error"]["details"]["checks"]["database"].startswith("failed: RuntimeError")


def test_at_a_public_port_not_ready_is_a_503() -> None:
    with _client(_broken, refusals_as_200=False) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503 and REFUSAL_STATUS_HEADER not in answer.headers
    assert answer.json()["error"]["code"] == "NOT_READY"


@pytest.mark.parametrize("refusals_as_200", [True, False])
def test_ready_is_a_200_either_way(refusals_as_200: bool) -> None:
    with _client(_fine, refusals_as_200=refusals_as_200) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["data"]["status"] == "ready"


def test_liveness_is_always_a_200() -> None:
    with _client(_broken, refusals_as_200=True) as client:
        assert client.get("/healthz").json()["data"] == {"status": "ok"}
