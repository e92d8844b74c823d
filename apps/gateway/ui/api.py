"""The operator page's HTTP edge: the page, its files, and the links it shows (for admins)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

from apps.gateway.deps import AdminOnly
from apps.gateway.ui.files import PAGE, UiFile, UiFiles
from servicekit import ok

PREFIX = "/ui"
PAGE_CACHE = "no-store"
"""The HTML is never kept: a new version's page never meets an old version's scripts."""
FILE_CACHE = "no-cache"
"""Scripts and styles are asked for again on every load (about 40 kB in all), so they always match the page."""
API_DOCS = "/docs"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",  # the page's modules and the vendored library: no inline script, no eval
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",  # the JSON API and the event stream, on the gateway itself
        "base-uri 'none'",
        "form-action 'none'",  # the sign-in form is sent by script, never by the browser
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""On every answer under /ui (apps.gateway.edge.headers puts them there), its errors included."""


def _send(file: UiFile, cache: str) -> FileResponse:
    return FileResponse(file.path, media_type=file.media_type, headers={"Cache-Control": cache})


def router(files: UiFiles, *, trace_ui_url: str | None) -> APIRouter:
    """`GET /ui` (the page), `GET /ui/config.json` (admins: where its links go), `GET /ui/<file>`."""
    routes = APIRouter(prefix=PREFIX, include_in_schema=False)

    @routes.get("")
    @routes.get("/")
    async def page() -> FileResponse:
        return _send(files.page(), PAGE_CACHE)

    @routes.get("/config.json")
    async def config(_: AdminOnly) -> JSONResponse:
        """Where the page's links go: the trace UI (null when the gateway was given none) and the API docs."""
        return ok({"traceUiUrl": trace_ui_url, "apiDocsUrl": API_DOCS})

    @routes.get("/{name:path}")
    async def file(name: str) -> FileResponse:
        if name == PAGE:  # the page under its own name too, never kept
            return await page()
        return _send(files.get(name), FILE_CACHE)

    return routes
