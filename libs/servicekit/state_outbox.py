"""Outbox for apps whose data lives in a Dapr state store.

Events are staged under one key of the app's state (its `outbox` document) in the same state
transaction as the change that caused them, so either both happen or neither does. A relay
publishes staged events (at least once; consumers drop duplicates by event id) and removes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from servicekit.conflicts import retry_on_conflict
from servicekit.context import request_id_var
from servicekit.errors import JunctionError
from servicekit.events import EventEnvelope
from servicekit.sidecar import SidecarClient, StateOp

log = logging.getLogger("servicekit.state_outbox")


class StateOutbox:
    def __init__(self, sidecar: SidecarClient, *, key: str = "outbox", interval_seconds: float = 2.0) -> None:
        self.sidecar = sidecar
        self.key = key
        self.interval_seconds = interval_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def commit(self, operations: list[StateOp], events: list[tuple[str, EventEnvelope]]) -> None:
        """Apply the operations and stage the events atomically; raises Conflict(ETAG_MISMATCH) on a clash."""
        if not events:
            await self.sidecar.transact(operations)
            return
        current = await self.sidecar.get_state(self.key)
        pending: list[dict[str, Any]] = list(current.value.get("pending", [])) if current else []
        pending += [{"topic": topic, "event": event.model_dump(mode="json", by_alias=True)} for topic, event in events]
        staged = StateOp(
            self.key, {"pending": pending}, etag=current.etag if current else None, insert_only=not current
        )
        await self.sidecar.transact([*operations, staged])
        self.kick()

    def kick(self) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish every staged event in order, then drop the published ones from the outbox."""
        current = await self.sidecar.get_state(self.key)
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
                await retry_on_conflict(lambda: self._forget(published))
        return len(published)

    async def _forget(self, published: set[str]) -> None:
        current = await self.sidecar.get_state(self.key)
        if current is None:
            return
        remaining = [e for e in current.value.get("pending", []) if e["event"]["eventId"] not in published]
        await self.sidecar.transact([StateOp(self.key, {"pending": remaining}, etag=current.etag)])

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()
            try:
                await self.publish_pending()
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
