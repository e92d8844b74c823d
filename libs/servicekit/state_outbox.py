"""Outbox for apps whose data lives in a Dapr state store.

Events are staged in an `outbox:<shard>` document of the app's state, in the same state
transaction as the change that caused them, so either both happen or neither does. A relay
publishes staged events (at least once; consumers drop duplicates by event id) and removes them.
The shard follows the first key the transaction writes, so writers of different aggregates rarely
contend on the same document, while one aggregate's events stay in order in one shard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

from servicekit.conflicts import retry_on_conflict
from servicekit.context import request_id_var
from servicekit.errors import JunctionError
from servicekit.events import EventEnvelope
from servicekit.sidecar import SidecarClient, StateOp

log = logging.getLogger("servicekit.state_outbox")
SHARDS = 8
BATCH_WINDOW_SECONDS = 0.02


def outbox_keys(key: str = "outbox", shards: int = SHARDS) -> list[str]:
    """Every state key an outbox may stage events under."""
    return [f"{key}:{shard}" for shard in range(shards)]


class StateOutbox:
    def __init__(
        self, sidecar: SidecarClient, *, key: str = "outbox", shards: int = SHARDS, interval_seconds: float = 2.0
    ) -> None:
        self.sidecar = sidecar
        self.keys = outbox_keys(key, shards)
        self.interval_seconds = interval_seconds
        self._wake = asyncio.Event()
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None

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
        self.kick()

    def kick(self) -> None:
        self._wake.set()

    async def publish_pending(self, keys: list[str] | None = None) -> int:
        """Publish every staged event of the given shards (all by default); return how many were published."""
        published = 0
        for key in keys or self.keys:
            published += await self._publish_shard(key)
        return published

    async def _publish_shard(self, key: str) -> int:
        current = await self.sidecar.get_state(key)
        if current is None or not current.value.get("pending"):
            return 0
        published: set[str] = set()
        try:
            for entry in current.value["pending"]:
                event = EventEnvelope.model_validate(entry["event"])
                token = request_id_var.set(event.request_id)
                try:
                    await self.sidecar.publish(entry["topic"], event)
                finally:
                    request_id_var.reset(token)
                published.add(event.event_id)
        finally:
            if published:
                await retry_on_conflict(lambda: self._forget(key, published))
        return len(published)

    async def _forget(self, key: str, published: set[str]) -> None:
        current = await self.sidecar.get_state(key)
        if current is None:
            return
        remaining = [e for e in current.value.get("pending", []) if e["event"]["eventId"] not in published]
        await self.sidecar.transact([StateOp(key, {"pending": remaining}, etag=current.etag)])

    async def _loop(self) -> None:
        while True:
            woken = False
            with contextlib.suppress(TimeoutError):
                woken = await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()
            await asyncio.sleep(BATCH_WINDOW_SECONDS)  # let a burst of commits share one pass
            # After a commit only the shards it wrote; on the interval every shard (a crash's leftovers).
            keys, self._dirty = (sorted(self._dirty) if woken else None), set()
            try:
                await self.publish_pending(keys)
            except JunctionError as exc:
                log.warning("state outbox relay will retry: %s", exc.message)
            except Exception:
                log.exception("state outbox relay pass failed; will retry")

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="state-outbox-relay")
        self.kick()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def __aenter__(self) -> StateOutbox:
        self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
