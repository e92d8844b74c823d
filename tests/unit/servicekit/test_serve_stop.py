"""`servicekit.serve.when_stopping`: callbacks run in their loop as soon as a signal asks the server to stop."""

from __future__ import annotations

import signal

import anyio
import pytest
import uvicorn

from servicekit.serve import _Server, server_config, when_stopping

pytestmark = pytest.mark.anyio


async def test_a_stop_signal_runs_the_callbacks_still_registered() -> None:
    called: list[str] = []
    forget_kept = when_stopping(lambda: called.append("kept"))
    forget = when_stopping(lambda: called.append("forgotten"))
    forget()
    forget()  # twice is harmless
    server = _Server(server_config("apps.gateway.main:create_app"))
    try:
        server.handle_exit(signal.SIGTERM, None)
        assert server.should_exit  # uvicorn's own handling still happens
        with anyio.fail_after(2):
            while not called:
                await anyio.lowlevel.checkpoint()
        assert called == ["kept"]
    finally:
        forget_kept()


def test_the_server_is_uvicorns() -> None:
    assert issubclass(_Server, uvicorn.Server)
