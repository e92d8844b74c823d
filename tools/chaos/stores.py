"""Read-only looks into the apps' own stores of a run, where the public API shows nothing (any profile)."""

from __future__ import annotations

from typing import Any

from tools.stack import Stack, stores


def reservations(stack: Stack) -> dict[str, dict[str, Any]]:
    """catalog's reservations by order id (kept in its Dapr state, not shown by the public API)."""
    return stores.state_documents(stack, "catalog", "reservation:")


def product_documents(stack: Stack) -> dict[str, dict[str, Any]]:
    """catalog's product documents by id, with the `reserved` units the public API leaves out."""
    return stores.state_documents(stack, "catalog", "product:")


def provider_ledger(stack: Stack) -> dict[str, dict[str, Any]]:
    """The simulated card provider's entries (kept in payments' state) by idempotency key, the order id."""
    return stores.state_documents(stack, "payments", "provider:")


def tenant_databases(stack: Stack) -> set[str]:
    """The subdomains that have a tenant database."""
    return stores.tenant_databases(stack)
