"""Shared pytest set-up: the project root is importable (apps, libs, tools, tests); unit and integration
tests run async on anyio's pytest plugin and import Starlette's TestClient under `filterwarnings = error`.
The end-to-end tests use neither: nothing here is autouse."""

from __future__ import annotations

import warnings

import pytest
from starlette.exceptions import StarletteDeprecationWarning

# Starlette 1.x warns at import when it finds `httpx` rather than `httpx2`; the project pins httpx.
# Importing the module once here, with only that warning silenced, caches it for every test module.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning)
    import starlette.testclient  # noqa: F401


# Async tests run on anyio's pytest plugin, not pytest-asyncio: anyio is installed with starlette/httpx (no new pin).
@pytest.fixture
def anyio_backend() -> str:
    """Every `@pytest.mark.anyio` test runs once, on asyncio (the apps run on it; trio is not installed)."""
    return "asyncio"
