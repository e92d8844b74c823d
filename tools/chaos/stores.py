"""Read-only looks into the apps' own stores under the run folder, where the public API shows nothing."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any


def state_items(path: Path, marker: str) -> dict[str, dict[str, Any]]:
    """The Dapr SQLite state documents whose key holds `marker`, by the key's part after it."""
    if not path.exists():
        return {}
    found: dict[str, dict[str, Any]] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT key, value, is_binary FROM state WHERE key LIKE ?", (f"%{marker}%",)).fetchall()
    for key, value, is_binary in rows:
        raw = base64.b64decode(value) if is_binary else value
        document = json.loads(raw)
        if isinstance(document, dict):
            found[str(key).split(marker, 1)[1]] = document
    return found


def reservations(run_dir: Path) -> dict[str, dict[str, Any]]:
    """catalog's reservations by order id (kept in its Dapr state, not shown by the public API)."""
    return state_items(run_dir / "state-catalog.db", "||reservation:")


def product_documents(run_dir: Path) -> dict[str, dict[str, Any]]:
    """catalog's product documents by id, with the `reserved` units the public API leaves out."""
    return state_items(run_dir / "state-catalog.db", "||product:")


def provider_ledger(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The simulated card provider's entries (kept in payments' state) by idempotency key, the order id."""
    return state_items(run_dir / "state-payments.db", "||provider:")


def tenant_databases(run_dir: Path) -> set[str]:
    """The subdomains that have a database file under the run's tenants/ folder."""
    folder = run_dir / "tenants"
    return {path.stem for path in folder.glob("*.db")} if folder.is_dir() else set()
