"""Shared middleware: only the app's own sidecar may call it, and bodies have a size limit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from servicekit import NotFound, ok
from servicekit.middleware import routine
from tests.unit.servicekit.helpers import build_app

SIDECAR_TOKEN = "token-the-sidecar-sends-" + "x" * 8

router = APIRouter()


@router.get("/private")
async def private() -> JSONResponse:
    return ok({"reached": True})


@router.post("/upload")
async def upload(request: Request) -> JSONResponse:
    return ok({"bytes": len(await request.body())})


class Note(BaseModel):
    text: str


@router.post("/notes")
async def note(body: Note) -> JSONResponse:
    return ok(body.model_dump())


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    with TestClient(build_app([router], app_api_token=SIDECAR_TOKEN)) as client:
        yield client


def assert_not_from_sidecar(response_status: int, body: dict[str, object]) -> None:
    assert response_status == 401
    assert body["success"] is False
    assert body["statusCode"] == 401
    assert body["error"] == {"code": "NOT_FROM_SIDECAR", "message": "Calls are accepted only from this app's sidecar."}


def test_call_without_sidecar_token_is_refused(guarded: TestClient) -> None:
    request_id = f"req-{uuid.uuid4().hex}"
    response = guarded.get("/private", headers={"X-Request-ID": request_id})
    assert_not_from_sidecar(response.status_code, response.json())
    assert response.json()["requestId"] == request_id
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("wrong", ["", "nope", SIDECAR_TOKEN + "x", SIDECAR_TOKEN[:-1]])
def test_call_with_wrong_sidecar_token_is_refused(guarded: TestClient, wrong: str) -> None:
    response = guarded.get("/private", headers={"dapr-api-token": wrong})
    assert_not_from_sidecar(response.status_code, response.json())


def test_call_with_right_sidecar_token_passes(guarded: TestClient) -> None:
    response = guarded.get("/private", headers={"dapr-api-token": SIDECAR_TOKEN})
    assert response.status_code == 200
    assert response.json()["data"] == {"reached": True}


def test_liveness_is_open_but_readiness_is_guarded(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/readyz").status_code == 401
    assert guarded.get("/readyz", headers={"dapr-api-token": SIDECAR_TOKEN}).status_code == 200


def test_unknown_route_is_refused_before_routing(guarded: TestClient) -> None:
    response = guarded.get(f"/nowhere/{uuid.uuid4().hex}")
    assert response.json()["error"]["code"] == "NOT_FROM_SIDECAR"


def test_without_app_api_token_no_sidecar_token_is_needed() -> None:
    with TestClient(build_app([router])) as client:
        assert client.get("/private").status_code == 200


def test_public_app_skips_the_sidecar_token_check() -> None:
    with TestClient(build_app([router], public=True, app_api_token=SIDECAR_TOKEN)) as client:
        assert client.get("/private").status_code == 200


@pytest.fixture
def limited() -> Iterator[TestClient]:
    """An app inside the mesh (the default) with a 32-byte body limit."""
    with TestClient(build_app([router], max_body_bytes=32)) as client:
        yield client


@pytest.fixture
def limited_public() -> Iterator[TestClient]:
    """A public app (the gateway's kind) with a 32-byte body limit."""
    with TestClient(build_app([router], public=True, max_body_bytes=32)) as client:
        yield client


def streamed_json_over_32_bytes() -> Iterator[bytes]:
    """A body sent in chunks without Content-Length, so only counting what arrives can find it too large."""
    yield b'{"text": "' + b"x" * 20
    yield b"x" * 20 + b'"}'


def test_declared_body_over_the_limit_is_413(limited: TestClient) -> None:
    # Refused by the middleware before any route runs: the real status even inside the mesh.
    request_id = f"req-{uuid.uuid4().hex}"
    response = limited.post("/upload", content=b"x" * 33, headers={"X-Request-ID": request_id})
    assert response.status_code == 413
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 413
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "32 bytes" in body["error"]["message"]
    assert body["requestId"] == request_id


def test_body_at_the_limit_passes(limited: TestClient) -> None:
    response = limited.post("/upload", content=b"x" * 32)
    assert response.status_code == 200
    assert response.json()["data"] == {"bytes": 32}


@pytest.mark.parametrize("path", ["/upload", "/notes"])
def test_streamed_body_over_the_limit_is_413_for_a_public_app(limited_public: TestClient, path: str) -> None:
    # `/upload` reads the raw body; `/notes` has FastAPI parse it, which must not turn the 413 into a 400.
    request_id = f"req-{uuid.uuid4().hex}"
    response = limited_public.post(
        path,
        content=streamed_json_over_32_bytes(),
        headers={"content-type": "application/json", "X-Request-ID": request_id},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 413
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "32 bytes" in body["error"]["message"]
    assert body["requestId"] == request_id


@pytest.mark.parametrize("path", ["/upload", "/notes"])
def test_streamed_body_over_the_limit_is_a_200_refusal_with_status_413_inside_the_mesh(
    limited: TestClient, path: str
) -> None:
    # Found while the route reads the body, so the app's handlers answer it: a refusal, HTTP 200.
    request_id = f"req-{uuid.uuid4().hex}"
    response = limited.post(
        path,
        content=streamed_json_over_32_bytes(),
        headers={"content-type": "application/json", "X-Request-ID": request_id},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == 413
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "32 bytes" in body["error"]["message"]
    assert body["requestId"] == request_id


def test_sidecar_token_is_checked_before_body_size() -> None:
    with TestClient(build_app([router], app_api_token=SIDECAR_TOKEN, max_body_bytes=8)) as client:
        response = client.post("/upload", content=b"x" * 100)
    assert response.json()["error"]["code"] == "NOT_FROM_SIDECAR"


def test_a_public_apps_readiness_names_no_check_and_no_component() -> None:
    with TestClient(build_app(public=True)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["data"] == {"status": "ready"}


def test_a_method_not_allowed_says_which_are() -> None:
    router = APIRouter()

    @router.get("/only-get")
    async def only_get() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(build_app([router], public=True)) as client:
        answer = client.post("/only-get")
    assert answer.status_code == 405 and answer.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert answer.headers["allow"] == "GET"


def test_a_routine_call_is_logged_at_debug_unless_it_failed(caplog: pytest.LogCaptureFixture) -> None:
    router = APIRouter()

    @router.post("/tick")
    async def tick(request: Request, fail: bool = False) -> JSONResponse:
        routine(request)
        if fail:
            raise NotFound("Nothing to tick.")
        return ok({"done": 0})

    with caplog.at_level(logging.DEBUG, logger="servicekit.access"), TestClient(build_app([router])) as client:
        client.post("/tick")
        client.post("/tick", params={"fail": True})
        client.post("/nowhere")
    levels = [(r.fields["path"], r.levelno) for r in caplog.records if r.name == "servicekit.access"]  # type: ignore[attr-defined]
    assert levels == [("/tick", logging.DEBUG), ("/tick", logging.INFO), ("/nowhere", logging.INFO)]
