"""The card provider payments calls: the port, and the simulated provider behind it.

A peer, not storage: the provider is an external service payments calls, as orders calls catalog. The
simulated one keeps its books in payments' own Dapr state (one `provider:{key}` document per idempotency
key) only because a real provider is external and outlives a restart of payments; these writes never
share a transaction with payments' own records, so payments must cope with a crash between the two.
The first charge or cancel of a key inserts its entry (insert-only), so two racing calls agree on one
outcome; later calls update it under its ETag. The provider's rules are `apps.payments.domain.provider`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from apps.payments.domain.provider import (
    ChargeResult,
    LedgerEntry,
    LedgerStatus,
    block,
    cancelled,
    charged_again,
    first_charge,
)
from servicekit.clock import Clock, utc_now, utc_text
from servicekit.conflicts import retry_on_conflict
from servicekit.sidecar import SidecarClient, StateItem, StateOp


class PaymentProvider(Protocol):
    """The card provider as payments sees it; every call is idempotent per key."""

    async def charge(self, *, key: str, token: str, amount: Decimal) -> ChargeResult:
        """Charge once per key; a repeated call answers the first call's result and charges nothing."""
        ...

    async def cancel(self, *, key: str, amount: Decimal) -> LedgerEntry:
        """Make sure no money stays taken under `key`: refund a capture, release a hold, block a future charge."""
        ...

    async def entry(self, key: str) -> LedgerEntry | None:
        """What the provider's books say about `key`."""
        ...


def ledger_key(key: str) -> str:
    return f"provider:{key}"


def to_state(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "status": entry.status.value,
        "amount": float(entry.amount),
        "reason": entry.reason,
        "chargeRequests": entry.charge_requests,
        "cancelRequests": entry.cancel_requests,
        "updatedAt": utc_text(entry.updated_at),
    }


def from_state(value: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        key=value["key"],
        status=LedgerStatus(value["status"]),
        amount=Decimal(str(value["amount"])),
        reason=value.get("reason"),
        charge_requests=int(value.get("chargeRequests", 0)),
        cancel_requests=int(value.get("cancelRequests", 0)),
        updated_at=datetime.fromisoformat(value["updatedAt"]),
    )


class DaprStatePaymentProvider:
    """The simulated PaymentProvider, its ledger kept where a payments restart cannot lose it."""

    def __init__(self, sidecar: SidecarClient, *, clock: Clock = utc_now) -> None:
        self.sidecar = sidecar
        self.clock = clock

    async def _read(self, key: str) -> tuple[LedgerEntry | None, StateItem | None]:
        item = await self.sidecar.get_state(ledger_key(key))
        if item is None or not item.value:
            return None, None
        return from_state(item.value), item

    async def _write(self, entry: LedgerEntry, item: StateItem | None) -> None:
        etag = item.etag if item is not None else None
        op = StateOp(ledger_key(entry.key), to_state(entry), etag=etag, insert_only=item is None)
        await self.sidecar.transact([op])

    async def charge(self, *, key: str, token: str, amount: Decimal) -> ChargeResult:
        async def attempt() -> ChargeResult:
            entry, item = await self._read(key)
            written = (
                first_charge(key, token, amount, self.clock()) if entry is None else charged_again(entry, self.clock())
            )
            await self._write(written, item)
            return written.result()

        return await retry_on_conflict(attempt)

    async def cancel(self, *, key: str, amount: Decimal) -> LedgerEntry:
        async def attempt() -> LedgerEntry:
            entry, item = await self._read(key)
            written = block(key, amount, self.clock()) if entry is None else cancelled(entry, self.clock())
            await self._write(written, item)
            return written

        return await retry_on_conflict(attempt)

    async def entry(self, key: str) -> LedgerEntry | None:
        entry, _ = await self._read(key)
        return entry
