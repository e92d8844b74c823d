"""The engine pings a pooled connection at checkout only where a server can drop it."""

from __future__ import annotations

import pytest

from servicekit.database import create_engine


@pytest.mark.parametrize(
    ("database_url", "pings"),
    [
        ("sqlite+aiosqlite:///orders.db", False),  # a file: nothing to lose, a ping is one more statement per unit
        ("postgresql+asyncpg://junction@127.0.0.1:5432/orders", True),
    ],
)
def test_only_a_database_server_gets_a_ping_at_checkout(database_url: str, pings: bool) -> None:
    engine = create_engine(database_url)
    assert engine.sync_engine.pool._pre_ping is pings
