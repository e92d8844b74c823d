"""orders' unit tests: each gets its own in-memory database and peers (async tests run on asyncio, see ../conftest)."""

from __future__ import annotations

import pytest

from tests.unit.orders.fakes import Deps


@pytest.fixture
def deps() -> Deps:
    return Deps()
