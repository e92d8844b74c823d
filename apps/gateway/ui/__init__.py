"""The operator page at `/ui`: services, orders, the live feed, dead letters, tenants and a trace view, for admins.

The page is static files and a client of the public JSON API: it signs in through `/api/v1/auth/login`,
keeps the admin's token in the tab's sessionStorage, and calls the same routes as anyone else, each
section on its own, so a section whose API fails shows that failure's message and the others carry on.
The live feed is read with fetch() and parsed in the page, since EventSource cannot send the token
(which never goes in a URL).

Front-end stack: Preact with htm (package.json: exact versions, installed by `make setup`, nothing fetched
at run time). Chosen because the page renders JSON it fetches with a bearer token: htmx swaps HTML the
server renders, which would mean a second, HTML API; Alpine evaluates its attribute expressions with
`new Function`, which a `script-src 'self'` policy forbids unless one takes its restricted CSP build. Preact
is maintained, 12 kB as one ES module, and htm writes its templates in plain JavaScript: no build step.
Class components only, so the page imports two files and no import map (which would be an inline script).

`files` lists what is served, `api` serves it; the edge (apps.gateway.edge.headers) adds `api.HEADERS`.
"""

from apps.gateway.ui.api import CONTENT_SECURITY_POLICY, HEADERS, PREFIX, router
from apps.gateway.ui.files import UiFile, UiFileNotFound, UiFiles, UiNotInstalled, vendored_names

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "HEADERS",
    "PREFIX",
    "UiFile",
    "UiFileNotFound",
    "UiFiles",
    "UiNotInstalled",
    "router",
    "vendored_names",
]
