"""provisioner's wire shapes (camelCase JSON)."""

from __future__ import annotations

from pydantic import Field

from apps.provisioner.domain import DatabaseMigrated
from servicekit.schemas import Schema


class InitDatabaseRequest(Schema):
    database_url: str = Field(min_length=1, max_length=2048)


class InitDatabaseRead(Schema):
    success: bool = True
    message: str
    tables_created: list[str]

    @classmethod
    def of(cls, migrated: DatabaseMigrated) -> InitDatabaseRead:
        message = f"The database is at the latest school schema (revision {migrated.revision})."
        return cls(message=message, tables_created=migrated.tables)
