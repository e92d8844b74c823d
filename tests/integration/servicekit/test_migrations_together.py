"""Instances of one app that start together migrate their shared database one after the other.

Replicas (tools/servers/replicas.py) run `upgrade_to_head` at start-up on one database; without a turn
each, both found no version table and both created the first tables, and one failed to start.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from apps.admin.tenants.storage.databases import PostgresTenantDatabases
from apps.orders.main import MIGRATIONS
from tests.integration.admin.test_tenant_postgres import server
from tools.servers.postgres import BIN
from tools.stack.stores import query

__all__ = ["server"]  # the PostgreSQL cluster fixture, shared with the tenant tests
ROOT = Path(__file__).resolve().parents[3]
INSTANCES = 3
UPGRADE = """
import sys, time
from pathlib import Path
from servicekit.migrations import upgrade_to_head
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # every instance starts at the same moment
upgrade_to_head(Path(sys.argv[1]), sys.argv[2])
"""


def upgrade_together(database_url: str) -> list[subprocess.CompletedProcess[str]]:
    """Run `upgrade_to_head` for orders' migrations in INSTANCES processes released at one instant."""
    start = f"{time.time() + 3.0:.3f}"  # after every interpreter has imported alembic and SQLAlchemy
    command = [sys.executable, "-c", UPGRADE, str(MIGRATIONS), database_url, start]
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'libs'}", "PATH": "/usr/bin:/bin"}
    running = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(INSTANCES)
    ]
    finished = []
    for process in running:
        output, _ = process.communicate(timeout=60)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, output))
    return finished


def head_revision() -> str:
    return sorted(path.stem.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*.py"))[-1]


def test_instances_starting_together_on_one_sqlite_file_all_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/orders.db"
    for done in upgrade_together(url):
        assert done.returncode == 0, done.stdout
    assert query(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


@pytest.mark.anyio
@pytest.mark.skipif(not (BIN / "postgres").exists(), reason="PostgreSQL 15 is not installed")
async def test_instances_starting_together_on_one_postgresql_database_all_start(server: str) -> None:
    url = server.format(subdomain=f"orders-{uuid.uuid4().hex[:8]}")
    await PostgresTenantDatabases().create(url)
    for done in upgrade_together(url):
        assert done.returncode == 0, done.stdout
    assert query(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
