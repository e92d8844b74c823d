"""Unit-test set-up: make Starlette's TestClient importable under `filterwarnings = error`."""

from __future__ import annotations

import warnings

from starlette.exceptions import StarletteDeprecationWarning

# Starlette 1.x warns at import when it finds `httpx` rather than `httpx2`; the project pins httpx.
# Importing the module once here, with only that warning silenced, caches it for every test module.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning)
    import starlette.testclient  # noqa: F401
