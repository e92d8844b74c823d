"""`servicekit.serve.when_stopping`: callbacks run in their loop as soon as a signal asks the server to stop, once
each, and at once when registered after it; the server's stop is bounded all the same."""

from __future__ import annotations

import signal
from collections.abc import Callable

import anyio
import pytest

from servicekit import serve
from servicekit.serve import GRACEFUL_STOP_SECONDS, _Server, server_config, when_stopping

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has a stop state of its own: a stop one test asks for must not reach another's apps."""
    monkeypatch.setattr(serve, "_stop", serve._StopSignal())


@pytest.fixture
def server() -> _Server:
    return _Server(server_config("apps.gateway.main:create_app"))


async def settled() -> None:
    """Let what a stop scheduled in this loop (`call_soon_threadsafe`) run."""
    for _ in range(5):
        await anyio.lowlevel.checkpoint()


def recorder(called: list[str], name: str) -> Callable[[], None]:
    return lambda: called.append(name)


async def test_a_stop_signal_runs_the_callbacks_still_registered(server: _Server) -> None:
    called: list[str] = []
    forget_kept = when_stopping(recorder(called, "kept"))
    forget = when_stopping(recorder(called, "forgotten"))
    forget()
    forget()  # twice is harmless
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit  # uvicorn's own handling still happens
    with anyio.fail_after(2):
        while not called:
            await anyio.lowlevel.checkpoint()
    assert called == ["kept"]
    forget_kept()  # after it ran: harmless


async def test_a_callback_registered_after_the_signal_runs_at_once(server: _Server) -> None:
    """A response that opened while the stop was under way would otherwise hold it until the backstop."""
    server.handle_exit(signal.SIGTERM, None)
    called: list[str] = []
    forget = when_stopping(recorder(called, "late"))
    await settled()
    assert called == ["late"]
    forget()


async def test_each_callback_runs_once_however_often_the_signal_comes(server: _Server) -> None:
    called: list[str] = []
    when_stopping(recorder(called, "once"))
    server.handle_exit(signal.SIGTERM, None)
    server.handle_exit(signal.SIGINT, None)  # a second signal: uvicorn's forced exit
    await settled()
    assert called == ["once"]


async def test_a_forgotten_callback_leaves_nothing_behind(server: _Server) -> None:
    forgets = [when_stopping(lambda: None) for _ in range(3)]
    for forget in forgets:
        forget()
    assert not serve._stop._callbacks


def test_uvicorn_stops_within_a_backstop_whatever_stays_open() -> None:
    config = server_config("apps.gateway.main:create_app")
    assert config.timeout_graceful_shutdown == GRACEFUL_STOP_SECONDS
    assert 0 < GRACEFUL_STOP_SECONDS < 30, "under the 30 s an orchestrator waits before SIGKILL"
