"""Start an app with uvicorn on 127.0.0.1 and the port its sidecar expects (APP_PORT)."""

from __future__ import annotations

import os

import uvicorn


def serve(factory: str, *, host: str = "127.0.0.1") -> None:
    """Run `module:create_app`; apps stay on loopback, where their sidecar is their only caller.

    uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, where every caller is: the
    client address stays the real peer, and the gateway alone reads forwarded headers, from the
    proxies its settings name.
    """
    port = int(os.environ.get("APP_PORT", "8000"))
    uvicorn.run(factory, factory=True, host=host, port=port, log_config=None, access_log=False, proxy_headers=False)
