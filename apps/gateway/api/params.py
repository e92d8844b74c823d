"""What the public API's routes declare: path and query parameters, and the bearer token they document.

Every id Junction hands out is a uuid4 in hex (orders, products, tenants, dead letters); the pattern
is a little wider so ids from elsewhere still pass, but a NUL byte, a slash, a dot-dot or 10 kB of text
is refused here with a 422 in the envelope instead of reaching a peer's URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Security
from fastapi.security import HTTPBearer

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
OFFSET_MAX = 1_000_000_000
"""No page anyone reads starts further on; the bound keeps an offset inside a 64-bit SQL integer."""

ResourceId = Annotated[str, Path(pattern=ID_PATTERN, description="An id: 1-64 of A-Z, a-z, 0-9, _ and -.")]
Limit = Annotated[int, Query(ge=1, le=100, description="How many items per page.")]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="How many items to skip.")]

_BEARER = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="An access token from POST /api/v1/auth/login."
)
# Documentation only (the OpenAPI's security requirements): `deps.SignedIn` and `deps.AdminOnly` check the token.
SIGNED_IN = Security(_BEARER)
ADMIN = Security(_BEARER, scopes=["admin"])
