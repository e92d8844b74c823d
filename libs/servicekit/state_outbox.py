"""Outbox for apps whose data lives in a Dapr state store.

Events are staged in an `outbox:<shard>` document of the app's state, in the same state
transaction as the change that caused them, so either both happen or neither does. A relay
publishes staged events (at least once; consumers drop duplicates by event id) and removes them.
The shard follows the first key the transaction writes, so writers of different aggregates rarely
contend on the same document, while one aggregate's events stay in order in one shard. An entry that
can never be sent is set aside to the dead-letter topic and removed (servicekit.relay); the rest go on.
Its backlog (servicekit.metrics) is what its commits staged and its passes read, shard by shard: the interval
pass reads every shard anyway, so a scrape reads nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import zlib
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from servicekit.clock import as_utc
from servicekit.conflicts import retry_on_conflict
from servicekit.consumer import DEAD_LETTER_TOPIC
from servicekit.errors import ETagMismatch
from servicekit.events import EventEnvelope
from servicekit.relay import Relay
from servicekit.sidecar import SidecarClient, StateItem, StateOp

SHARDS = 64


def outbox_keys(key: str = "outbox", shards: int = SHARDS) -> list[str]:
    """Every state key an outbox may stage events under."""
    return [f"{key}:{shard}" for shard in range(shards)]


class StateOutbox(Relay):
    outbox = "state"

    def __init__(
        self,
        sidecar: SidecarClient,
        *,
        key: str = "outbox",
        shards: int = SHARDS,
        interval_seconds: float = 2.0,
        dead_letter_topic: str = DEAD_LETTER_TOPIC,
    ) -> None:
        super().__init__(
            sidecar=sidecar,
            interval_seconds=interval_seconds,
            name="state outbox relay",
            dead_letter_topic=dead_letter_topic,
        )
        self.keys = outbox_keys(key, shards)
        self._dirty: set[str] = set()
        self._shards: dict[str, tuple[int, datetime | None]] = {}
        """Each shard's entries as last written or read: how many, and when the oldest was staged."""

    async def commit(self, operations: list[StateOp], events: list[tuple[str, EventEnvelope]]) -> None:
        """Apply the operations and stage the events atomically; raises Conflict(ETAG_MISMATCH) on a clash."""
        if not events:
            await self.sidecar.transact(operations)
            return
        key = self.keys[zlib.crc32(operations[0].key.encode()) % len(self.keys)] if operations else self.keys[0]
        current = await self.sidecar.get_state(key)
        pending: list[dict[str, Any]] = list(current.value.get("pending", [])) if current else []
        pending += [{"topic": topic, "event": event.model_dump(mode="json", by_alias=True)} for topic, event in events]
        staged = StateOp(key, {"pending": pending}, etag=current.etag if current else None, insert_only=not current)
        await self.sidecar.transact([*operations, staged])
        self._dirty.add(key)
        self._note(key, pending)
        self._record_backlog()
        self.kick()

    async def publish_pending(self, keys: list[str] | None = None) -> int:
        """Publish every staged event of the given shards (all by default); return how many were published."""
        published = 0
        try:
            for key in keys or await self._staged_shards():
                published += await self._publish_shard(key)
        finally:
            self._record_backlog()
        return published

    async def _staged_shards(self) -> list[str]:
        """The shards holding staged events, found with one bulk read: all an idle app's interval pass costs."""
        shards = await self.sidecar.get_bulk_state(self.keys)
        staged = [key for key in self.keys if key in shards and shards[key].value.get("pending")]
        for key in set(self.keys) - set(staged):
            self._note(key, [])
        return staged

    async def _publish_shard(self, key: str) -> int:
        current = await self.sidecar.get_state(key)
        if current is None or not current.value.get("pending"):
            self._note(key, [])
            return 0
        settled: set[str] = set()
        try:
            for entry in current.value["pending"]:
                error = await self._publish_entry(entry)
                if error is not None:
                    topic = entry.get("topic") if isinstance(entry, dict) else None
                    data = entry.get("event") if isinstance(entry, dict) else entry
                    await self.set_aside(str(topic or "unknown"), entry_id(entry), data, error)
                settled.add(entry_id(entry))
        finally:
            remaining = await self._forget_settled(key, settled, current) if settled else current.value["pending"]
            self._note(key, remaining)
        return len(settled)

    async def _forget_settled(self, key: str, settled: set[str], read: StateItem) -> list[Any]:
        """Remove the settled entries from a shard, first against the read they were published from.

        Its ETag holds unless something was staged meanwhile; only then is the shard read again (a read saved
        on every batch the relay publishes).
        """
        try:
            return await self._forget(key, settled, read)
        except ETagMismatch:
            return await retry_on_conflict(lambda: self._forget(key, settled))

    async def _publish_entry(self, entry: Any) -> str | None:
        """Publish one staged entry; None when sent, the reason when it can never be (transient errors propagate)."""
        try:
            topic, event = str(entry["topic"]), EventEnvelope.model_validate(entry["event"])
        except (ValidationError, KeyError, TypeError) as exc:
            return f"UNREADABLE_ENTRY: not a topic and an event envelope ({type(exc).__name__})"
        return await self.refusal_of(topic, event)

    async def _forget(self, key: str, settled: set[str], current: StateItem | None = None) -> list[Any]:
        """Remove the settled entries from a shard (read afresh unless `current` is given); return those left."""
        if current is None:
            current = await self.sidecar.get_state(key)
        if current is None:
            return []
        remaining = [e for e in current.value.get("pending", []) if entry_id(e) not in settled]
        await self.sidecar.transact([StateOp(key, {"pending": remaining}, etag=current.etag)])
        return remaining

    def _note(self, key: str, entries: list[Any]) -> None:
        if entries:
            self._shards[key] = (len(entries), staged_at(entries))
        else:
            self._shards.pop(key, None)

    def _record_backlog(self) -> None:
        oldest = min((at for _, at in self._shards.values() if at is not None), default=None)
        self.backlog.record(sum(count for count, _ in self._shards.values()), oldest)

    async def relay_pass(self, *, kicked: bool) -> None:
        # No waiting for more commits: every event published at once is sooner by the wait (it was 20 ms, on
        # the way from payments' charge to the order's CONFIRMED). Under load commits gather by themselves:
        # those made while a pass runs share the next one, which reads each dirty shard once.
        await asyncio.sleep(0)  # only commits already scheduled in this turn of the loop join this pass
        # After a commit only the shards it wrote; on the interval every shard (a crash's leftovers).
        keys, self._dirty = (sorted(self._dirty) if kicked else None), set()
        await self.publish_pending(keys)


def staged_at(entries: list[Any]) -> datetime | None:
    """When the oldest readable entry of a shard was staged (its event's `occurredAt`): entries are kept in order."""
    for entry in entries:
        event = entry.get("event") if isinstance(entry, dict) else None
        occurred = event.get("occurredAt") if isinstance(event, dict) else None
        if isinstance(occurred, str):
            with contextlib.suppress(ValueError):
                return as_utc(datetime.fromisoformat(occurred))
    return None


def entry_id(entry: Any) -> str:
    """A staged entry's event id, or a digest of it when it has none (an unreadable entry)."""
    event = entry.get("event") if isinstance(entry, dict) else None
    event_id = event.get("eventId") if isinstance(event, dict) else None
    if isinstance(event_id, str) and event_id:
        return event_id
    text = json.dumps(entry, sort_keys=True, default=str)
    return "sha256-" + hashlib.sha256(text.encode()).hexdigest()
