"""The probe that docker compose and the kubelet run inside an app's container."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools.deploy.probe import healthy, main


class _StandIn(BaseHTTPRequestHandler):
    """/healthz and /v1.0/healthz answer 204; anything else 500."""

    def do_GET(self) -> None:
        self.send_response(204 if self.path in ("/healthz", "/v1.0/healthz") else 500)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_app_answering_on_healthz_is_healthy(port: int) -> None:
    assert healthy("http", port)
    assert main(["http", str(port), "--sidecar", str(port)]) == 0


def test_nobody_listening_is_unhealthy() -> None:
    assert not healthy("http", _closed_port())
    assert not healthy("grpc", _closed_port())


def test_a_sidecar_that_does_not_answer_makes_the_pair_unhealthy(port: int) -> None:
    assert main(["http", str(port), "--sidecar", str(_closed_port())]) == 1
