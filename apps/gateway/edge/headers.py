"""Fixed response headers on the paths of one prefix: the operator page's content policy and framing rules.

They go on every answer under the prefix, the error envelopes included, and replace any the route set.
The JSON API and `/docs` (whose Swagger UI loads its script from a CDN) are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def under(path: str, prefix: str) -> bool:
    """Whether `path` is `prefix` or a path below it (`/ui`, `/ui/app.js`; not `/uix`)."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


class PathHeadersMiddleware:
    """Set `headers` on every response to a request under `prefix`."""

    def __init__(self, app: ASGIApp, *, prefix: str, headers: Mapping[str, str]) -> None:
        self.app = app
        self.prefix = prefix
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
