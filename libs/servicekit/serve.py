"""Start an app with uvicorn on 127.0.0.1 and the port its sidecar expects (APP_PORT)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import Callable
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

KEEP_ALIVE_SECONDS = 120
"""How long an idle connection stays open: longer than any caller keeps one idle (daprd's app
channel, Go's default transport: 90 s; httpx: 5 s), so the caller always closes first. Were the
server to close first, a request sent on the connection at that moment is lost on the wire: the
caller sees the connection drop with no answer (uvicorn's default, 5 s, races httpx's 5 s).
"""

GRACEFUL_STOP_SECONDS = 25
"""How long uvicorn waits for open connections after a stop before it cancels them: a backstop for a response
that nothing ended (`when_stopping` ends those that never end by themselves). Under the 30 s an orchestrator
gives a stop before SIGKILL (terminationGracePeriodSeconds, tools/deploy), so the lifespan's exit still runs."""


class _StopSignal:
    """Whether the server was asked to stop, and the callbacks to run when it is: each runs at most once.

    The signal handler may interrupt a registration anywhere: an entry is taken out of the dict (one atomic
    `pop`) by whoever runs it first, and one registered after the signal runs at once.
    """

    def __init__(self) -> None:
        self.began = False
        self._callbacks: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = {}
        self._keys = itertools.count()

    def register(self, callback: Callable[[], None]) -> Callable[[], None]:
        key = next(self._keys)
        self._callbacks[key] = (asyncio.get_running_loop(), callback)
        if self.began:  # registered after the signal: nobody would run it
            self._run(key)

        def forget() -> None:
            self._callbacks.pop(key, None)

        return forget

    def fire(self) -> None:
        self.began = True
        for key in list(self._callbacks):
            self._run(key)

    def _run(self, key: int) -> None:
        entry = self._callbacks.pop(key, None)
        if entry is not None:
            loop, callback = entry
            loop.call_soon_threadsafe(callback)


_stop = _StopSignal()


def when_stopping(callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` in the calling event loop as soon as the server is asked to stop (at once if it already
    was); returns its undoing. Call it from inside the app's event loop (the lifespan), and forget it on exit.

    uvicorn first waits for every open connection to finish, and only then runs the lifespan's exit: a
    response that never ends by itself (the gateway's event stream) would hold the stop until
    GRACEFUL_STOP_SECONDS. The callback ends such responses then.
    """
    return _stop.register(callback)


class _Server(uvicorn.Server):
    """uvicorn's server, which also tells `when_stopping`'s callbacks when a signal asks it to stop."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        _stop.fire()


def serve(factory: str, *, host: str = "127.0.0.1") -> None:
    """Run `module:create_app`; apps stay on loopback, where their sidecar is their only caller.

    uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, where every caller is: the
    client address stays the real peer, and the gateway alone reads forwarded headers, from the
    proxies its settings name.
    """
    server = _Server(server_config(factory, host=host))  # as uvicorn.run does, with the stop hook
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def server_config(factory: str, *, host: str = "127.0.0.1") -> uvicorn.Config:
    """How `serve` runs an app: on `host` and APP_PORT, no forwarded headers believed, long keep-alive, bounded stop."""
    return uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=int(os.environ.get("APP_PORT", "8000")),
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
    )
