"""Start an app with uvicorn on 127.0.0.1 and the port its sidecar expects (APP_PORT)."""

from __future__ import annotations

import os

import uvicorn


def serve(factory: str, *, host: str = "127.0.0.1") -> None:
    """Run `module:create_app`; apps stay on loopback, where their sidecar is their only caller."""
    port = int(os.environ.get("APP_PORT", "8000"))
    uvicorn.run(factory, factory=True, host=host, port=port, log_config=None, access_log=False)
