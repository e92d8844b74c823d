"""A gateway with a feed client connected stops when it is told to (SIGTERM), under uvicorn as `serve` runs it.

uvicorn waits for every open response before it runs the lifespan's exit, and the feed's response never
ends by itself: without `servicekit.serve.when_stopping` the gateway would wait for its last admin to leave.
"""

from __future__ import annotations

import dataclasses
import signal
import time

import httpx
from fastapi import FastAPI

from apps.gateway.feed import FeedHub
from apps.gateway.main import create_app
from apps.gateway.settings import GatewaySettings
from tests.integration.serving import serve_in_child
from tests.unit.gateway.helpers import TOKENS, bearer, services
from tools.stack.processes import free_port, wait_for

STOP_SECONDS = 10.0
"""Far more than a stop takes (well under a second); far less than waiting for the client."""


def feed_app() -> FastAPI:
    """The gateway on test services; its feed's heartbeat is long, so only the stop can end the stream."""
    served = dataclasses.replace(services(tokens=TOKENS), feed=FeedHub(heartbeat_seconds=300))
    return create_app(GatewaySettings(), services=served)


def test_sigterm_ends_an_open_feed_stream_and_the_server_exits() -> None:
    port = free_port()
    server = serve_in_child(f"{__name__}:feed_app", port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(url), timeout=20, what="the gateway's port")
        with (
            httpx.Client(base_url=url, timeout=httpx.Timeout(5, read=STOP_SECONDS)) as client,
            client.stream("GET", "/api/v1/admin/events/stream", headers=bearer("admin")) as stream,
        ):
            assert stream.status_code == 200
            chunks = stream.iter_bytes()
            assert next(chunks) == b"retry: 3000\n\n"
            asked = time.monotonic()
            server.send_signal(signal.SIGTERM)
            assert list(chunks) == []  # the stream ended cleanly: no read timeout, no broken connection
            assert time.monotonic() - asked < STOP_SECONDS
        # uvicorn raises the signal it captured again once it has shut down: -SIGTERM after a clean stop.
        assert server.wait(timeout=STOP_SECONDS) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
