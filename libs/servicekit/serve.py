"""Start an app with uvicorn on 127.0.0.1 and the port its sidecar expects (APP_PORT)."""

from __future__ import annotations

import os

import uvicorn

KEEP_ALIVE_SECONDS = 120
"""How long an idle connection stays open: longer than any caller keeps one idle (daprd's app
channel, Go's default transport: 90 s; httpx: 5 s), so the caller always closes first. Were the
server to close first, a request sent on the connection at that moment is lost on the wire: the
caller sees the connection drop with no answer (uvicorn's default, 5 s, races httpx's 5 s).
"""


def serve(factory: str, *, host: str = "127.0.0.1") -> None:
    """Run `module:create_app`; apps stay on loopback, where their sidecar is their only caller.

    uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, where every caller is: the
    client address stays the real peer, and the gateway alone reads forwarded headers, from the
    proxies its settings name.
    """
    port = int(os.environ.get("APP_PORT", "8000"))
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
