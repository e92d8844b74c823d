"""An app's server never closes an idle connection before its caller does (servicekit.serve).

A caller that sends a request on a kept-alive connection just as the server closes it gets no
answer at all (the chaos run saw it as `RemoteProtocolError` at the edge). Callers keep a connection
idle for up to 90 s (daprd) or 5 s (httpx), so the server must keep it open longer than that.
"""

from __future__ import annotations

import http.client
import socket
import time

from fastapi import FastAPI

from tests.integration.serving import serve_in_child
from tools.stack.processes import free_port, wait_for

IDLE_SECONDS = 6.0
"""Longer than uvicorn's default keep-alive (5 s), which raced httpx's own 5 s."""


def tiny_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


def _ping(connection: http.client.HTTPConnection) -> int:
    """One request on the connection as it stands; a connection the server closed raises."""
    connection.request("GET", "/ping")
    response = connection.getresponse()
    response.read()
    return response.status


def test_a_connection_left_idle_longer_than_httpx_keeps_one_still_answers() -> None:
    port = free_port()
    server = serve_in_child(f"{__name__}:tiny_app", port)
    try:
        wait_for(lambda: _listening(port), timeout=20, what="the app's port")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            assert _ping(connection) == 200
            time.sleep(IDLE_SECONDS)
            assert _ping(connection) == 200  # uvicorn's default closes it at 5 s: RemoteDisconnected
        finally:
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True
