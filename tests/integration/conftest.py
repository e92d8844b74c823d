"""What every app's integration tests share: an engine on the test's own database. Which database that is,
`database_url` (a SQLite file migrated to the app's head), the app's conftest or test module says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `database_url`, disposed of after the test."""
    engine = create_async_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
