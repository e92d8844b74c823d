"""Path parameters of the public API, validated before any call crosses the mesh.

Every id Junction hands out is a uuid4 in hex (orders, products, tenants, dead letters); the pattern
is a little wider so ids from elsewhere still pass, but a NUL byte, a slash, a dot-dot or 10 kB of text
is refused here with a 422 in the envelope instead of reaching a peer's URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

ResourceId = Annotated[str, Path(pattern=ID_PATTERN, description="An id: 1-64 of A-Z, a-z, 0-9, _ and -.")]
