"""orders' migrations: 0002 keeps the orders that exist and owes them no settlement."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from apps.orders.domain import OrderStatus
from apps.orders.main import MIGRATIONS
from apps.orders.storage import SqlUnitOfWork
from servicekit.migrations import upgrade_to_head

pytestmark = pytest.mark.anyio


@pytest.fixture
def legacy_url(tmp_path: Path) -> str:
    """A database with an order stored under 0001, then migrated to head."""
    url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0001")
    with sqlite3.connect(tmp_path / "orders.db") as connection:
        connection.execute(
            "INSERT INTO orders (id, user_id, status, total_cents, payment_token, created_at, updated_at, expires_at)"
            " VALUES ('legacy', 'u1', 'CONFIRMED', 500, 'tok_ok', '2026-01-01', '2026-01-01', '2026-01-02')"
        )
    upgrade_to_head(MIGRATIONS, url)
    return url


async def test_existing_orders_survive_0002_with_nothing_due(legacy_url: str) -> None:
    engine = create_async_engine(legacy_url)
    try:
        async with SqlUnitOfWork(engine) as work:
            order = await work.orders.get("legacy")
            assert order is not None and order.status is OrderStatus.CONFIRMED
            assert (order.request_hash, order.settlement_due) == (None, False)
            assert await work.orders.unsettled(10) == []
    finally:
        await engine.dispose()
