"""Tenants on the wire (camelCase JSON); the admin password hash never leaves admin."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.engine import make_url

from apps.admin.tenants.domain import Tenant
from servicekit.clock import utc_text
from servicekit.schemas import Schema


# Only generous size bounds here: the use case refuses bad values with their own codes (INVALID_NAME, ...).
class TenantCreate(Schema):
    name: str = Field(max_length=2000)
    subdomain: str = Field(max_length=255)
    admin_email: str = Field(max_length=1000)
    admin_password: str = Field(max_length=4096)
    requested_by: str = Field(min_length=1, max_length=200)


class TenantRetry(Schema):
    requested_by: str = Field(min_length=1, max_length=200)


class TenantRead(Schema):
    id: str
    name: str
    subdomain: str
    admin_email: str
    status: str
    step: str
    reason: str | None
    tables_created: list[str]
    database_url: str
    requested_by: str
    created_at: str
    updated_at: str
    attempts: int

    @classmethod
    def of(cls, t: Tenant) -> TenantRead:
        return cls(
            id=t.id,
            name=t.name,
            subdomain=t.subdomain,
            admin_email=t.admin_email,
            status=t.status.value,
            step=t.step.value,
            reason=t.reason,
            tables_created=list(t.tables_created),
            # A PostgreSQL URL carries the server's password; admins see where the database is, not that.
            database_url=make_url(t.database_url).render_as_string(hide_password=True),
            requested_by=t.requested_by,
            created_at=utc_text(t.created_at),
            updated_at=utc_text(t.updated_at),
            attempts=t.attempts,
        )


class TenantList(Schema):
    items: list[TenantRead]
    total: int
