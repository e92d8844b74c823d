"""identity's integration fixtures: a SQLite file migrated to head (its `engine` is ../conftest's), and units
of work on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apps.identity.main import MIGRATIONS
from apps.identity.service import UnitOfWorkFactory
from apps.identity.storage import SqlUnitOfWork
from servicekit.migrations import upgrade_to_head


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
    upgrade_to_head(MIGRATIONS, url)
    return url


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: SqlUnitOfWork(engine)
