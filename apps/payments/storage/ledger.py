"""The simulated provider's books in payments' Dapr state: one `provider:{key}` document per idempotency key.

The first charge or cancel of a key inserts its entry (insert-only), so two racing calls agree on one
outcome; later calls update it under its ETag. These writes never share a transaction with payments'
own records: the provider is external, and payments must cope with a crash between the two.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.payments.provider import (
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
