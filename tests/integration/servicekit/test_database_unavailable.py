"""A database that cannot serve a request in time is a 503 in the envelope, never a 500.

At the public edge the answer's status is 503; inside the mesh it travels like every dependency's
outage, as 200 with `statusCode` 503 (envelope.py says why), and callers unwrap it to the same error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from servicekit.envelope import REFUSAL_STATUS_HEADER
from tests.unit.servicekit.helpers import build_app


def test_a_request_that_finds_the_pool_exhausted_gets_a_503(tmp_path: Path) -> None:
    # One pooled connection, held by another unit of work: the next one waits out the pool's timeout.
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}",
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    router = APIRouter()

    @router.get("/count")
    async def count() -> dict[str, int]:
        async with engine.connect() as held:
            await held.execute(text("select 1"))
            async with engine.connect() as second:  # the pool has nothing left to give
                await second.execute(text("select 1"))
        return {"count": 1}

    with TestClient(build_app([router], public=True)) as client:
        answer = client.get("/count")
    asyncio.run(engine.dispose())

    assert answer.status_code == 503
    body = answer.json()
    assert body["success"] is False
    assert body["error"]["code"] == "DATABASE_UNAVAILABLE"
    assert "QueuePool" not in answer.text, "the driver's text stays in the log"


def test_a_database_that_is_gone_gets_a_503(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "app.db"  # SQLite cannot open a file in a missing folder
    engine = create_async_engine(f"sqlite+aiosqlite:///{missing}")
    router = APIRouter()

    @router.get("/count")
    async def count() -> dict[str, int]:
        async with engine.connect() as connection:
            await connection.execute(text("select 1"))
        return {"count": 1}

    with TestClient(build_app([router])) as client:
        answer = client.get("/count")
    asyncio.run(engine.dispose())

    body = answer.json()
    assert (body["statusCode"], body["error"]["code"]) == (503, "DATABASE_UNAVAILABLE")
    assert answer.headers[REFUSAL_STATUS_HEADER] == "503"
