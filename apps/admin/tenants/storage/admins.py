"""A school's first administrator: the password hash, and the `admin_users` row in the tenant database.

The provisioner's migrations own the table; admin only inserts one row, so it names just the
columns it writes (lightweight `table()`, typed as the migrations define them), not the whole schema.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import DateTime, String, Unicode, column, select, table
from sqlalchemy.exc import IntegrityError

from servicekit.database import create_engine

ADMIN_NAME = "Administrator"

admin_users = table(
    "admin_users",
    column("id", String),
    column("email", String),
    column("name", Unicode),
    column("password_hash", String),
    column("created_at", DateTime(timezone=True)),
)


class TenantAdmins(Protocol):
    async def ensure_admin(self, database_url: str, *, email: str, password_hash: str) -> bool:
        """Insert the first admin unless a user with that email exists; True if inserted."""
        ...


class SqlTenantAdmins:
    async def ensure_admin(self, database_url: str, *, email: str, password_hash: str) -> bool:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                found = await connection.execute(select(admin_users.c.id).where(admin_users.c.email == email))
                if found.first() is not None:
                    return False
                await connection.execute(
                    admin_users.insert().values(
                        id=str(uuid.uuid4()),
                        email=email,
                        name=ADMIN_NAME,
                        password_hash=password_hash,
                        created_at=datetime.now(UTC),
                    )
                )
            return True
        except IntegrityError:  # another run inserted the same email in between: it exists, as wanted
            return False
        finally:
            await engine.dispose()
