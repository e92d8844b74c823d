"""Tenants in admin's Dapr state, each write guarded by an ETag or insert-only, events through the outbox.

tenant:{id}                   the tenant's document (with its Argon2 admin password hash)
tenant-subdomain:{subdomain}  {"tenantId"}: written insert-only, so a subdomain is claimed once, for good
tenants-list:head, :page:{k}  the tenant ids, oldest first, in pages (servicekit.index); an insert writes
                              one page; the former one-key `tenants-index` is read until the first insert

The tenant's own database is `databases` (create, remove) and `admins` (its first administrator's row).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apps.admin.tenants.domain import (
    ProvisioningStep,
    ProvisioningSuperseded,
    Tenant,
    TenantProvisioned,
    TenantProvisioningFailed,
    TenantStatus,
)
from servicekit.clock import utc_text
from servicekit.events import new_event
from servicekit.index import PagedIndex
from servicekit.sidecar import SidecarClient, StateOp
from servicekit.state_outbox import StateOutbox

INDEX_KEY = "tenants-list"
LEGACY_INDEX_KEY = "tenants-index"
TenantEvent = TenantProvisioned | TenantProvisioningFailed


def tenant_key(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


def subdomain_key(subdomain: str) -> str:
    return f"tenant-subdomain:{subdomain}"


@dataclass(frozen=True)
class Versioned:
    """A stored tenant and the ETag that guards its next write."""

    tenant: Tenant
    etag: str | None


class TenantRepository(Protocol):
    async def get(self, tenant_id: str) -> Versioned | None: ...

    async def subdomain_owner(self, subdomain: str) -> str | None: ...

    async def add(self, tenant: Tenant) -> Versioned:
        """Store, claim the subdomain and index in one transaction; Conflict(ETAG_MISMATCH) on a clash."""
        ...

    async def replace(self, current: Versioned, tenant: Tenant, events: Sequence[TenantEvent] = ()) -> Versioned:
        """Write a changed tenant and stage its events atomically; Conflict(ETAG_MISMATCH) if it changed."""
        ...

    async def ids(self) -> list[str]:
        """Every tenant id, oldest first."""
        ...

    async def page(self, *, limit: int, offset: int) -> tuple[list[str], int]:
        """One page of tenant ids, newest first, and how many there are."""
        ...

    async def tenants(self, tenant_ids: Sequence[str]) -> list[Versioned]:
        """The tenants of those ids that exist, in the order asked."""
        ...


def to_document(t: Tenant) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "subdomain": t.subdomain,
        "adminEmail": t.admin_email,
        "adminPasswordHash": t.admin_password_hash,
        "status": t.status.value,
        "step": t.step.value,
        "reason": t.reason,
        "tablesCreated": list(t.tables_created),
        "databaseUrl": t.database_url,
        "requestedBy": t.requested_by,
        "createdAt": utc_text(t.created_at),
        "updatedAt": utc_text(t.updated_at),
        "attempts": t.attempts,
    }


def from_document(d: dict[str, Any]) -> Tenant:
    return Tenant(
        id=d["id"],
        name=d["name"],
        subdomain=d["subdomain"],
        admin_email=d["adminEmail"],
        admin_password_hash=d["adminPasswordHash"],
        database_url=d["databaseUrl"],
        requested_by=d["requestedBy"],
        created_at=datetime.fromisoformat(d["createdAt"]),
        updated_at=datetime.fromisoformat(d["updatedAt"]),
        status=TenantStatus(d["status"]),
        step=ProvisioningStep(d["step"]),
        reason=d.get("reason"),
        tables_created=tuple(d.get("tablesCreated") or ()),
        attempts=int(d.get("attempts", 1)),
    )


class DaprStateTenantRepository:
    def __init__(self, sidecar: SidecarClient, outbox: StateOutbox) -> None:
        self.sidecar = sidecar
        self.outbox = outbox
        self.index = PagedIndex(sidecar, INDEX_KEY, legacy_key=LEGACY_INDEX_KEY)

    async def get(self, tenant_id: str) -> Versioned | None:
        item = await self.sidecar.get_state(tenant_key(tenant_id))
        return None if item is None else Versioned(from_document(item.value), item.etag)

    async def subdomain_owner(self, subdomain: str) -> str | None:
        item = await self.sidecar.get_state(subdomain_key(subdomain))
        return None if item is None else str(item.value["tenantId"])

    async def add(self, tenant: Tenant) -> Versioned:
        document = to_document(tenant)
        await self.sidecar.transact(
            [
                StateOp(tenant_key(tenant.id), document, insert_only=True),
                StateOp(subdomain_key(tenant.subdomain), {"tenantId": tenant.id}, insert_only=True),
                *await self.index.append(tenant.id),
            ]
        )
        return await self._read_back(tenant, document)

    async def replace(self, current: Versioned, tenant: Tenant, events: Sequence[TenantEvent] = ()) -> Versioned:
        document = to_document(tenant)
        operation = StateOp(tenant_key(tenant.id), document, etag=current.etag)
        await self.outbox.commit([operation], [(event.topic, new_event(event.payload())) for event in events])
        return await self._read_back(tenant, document)

    async def _read_back(self, tenant: Tenant, document: dict[str, Any]) -> Versioned:
        """Fetch the ETag of what was just written (a write does not return it), if it is still ours."""
        item = await self.sidecar.get_state(tenant_key(tenant.id))
        if item is None or item.value != document:
            raise ProvisioningSuperseded("Another run changed this tenant meanwhile.", details={"tenantId": tenant.id})
        return Versioned(tenant, item.etag)

    async def ids(self) -> list[str]:
        return await self.index.every()

    async def page(self, *, limit: int, offset: int) -> tuple[list[str], int]:
        found = await self.index.slice(offset=offset, limit=limit, newest_first=True)
        return found.ids, found.total

    async def tenants(self, tenant_ids: Sequence[str]) -> list[Versioned]:
        found = await asyncio.gather(*(self.get(tenant_id) for tenant_id in tenant_ids))
        return [item for item in found if item is not None]
