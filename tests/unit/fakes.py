"""In-memory stand-ins for unit tests only (FakeSidecar is a servicekit SidecarClient); e2e tests use real sidecars."""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from servicekit.errors import ETagMismatch, ServiceUnavailable
from servicekit.events import EventEnvelope
from servicekit.sidecar import PublishRefused, StateItem, StateOp
from servicekit.sidecar_errors import PublishFailed, SecretUnavailable
from servicekit.state_outbox import outbox_keys

Handler = Callable[[str, str, Any, dict[str, Any] | None], Awaitable[Any]]


class FakeSidecar:
    """Records published events, keeps state with ETags and TTLs, routes invocations to registered handlers."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.published: list[tuple[str, EventEnvelope]] = []
        self.cloud_events: list[tuple[str, dict[str, Any]]] = []
        self.refused_topics: set[str] = set()
        """Topics the fake broker refuses for good (PublishRefused), like a topic no scope allows."""
        self.state: dict[tuple[str, str], StateItem] = {}
        self.expires: dict[tuple[str, str], float] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.secrets = dict(secrets or {})
        self.apps: dict[str, Handler] = {}
        self.broker_down = False
        self.invocations: list[tuple[str, str, str, dict[str, str]]] = []

    async def invoke(
        self,
        app_id: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        self.invocations.append((app_id, method, path, dict(headers or {})))
        handler = self.apps.get(app_id)
        if handler is None:
            raise ServiceUnavailable(f"The {app_id} service is unavailable.")
        return await handler(method, path, json, params)

    def _check_broker(self, topic: str) -> None:
        if self.broker_down:
            raise PublishFailed("The message broker is not reachable.")
        if topic in self.refused_topics:
            raise PublishRefused(f"The broker refused {topic}.", details={"errorCode": "ERR_PUBSUB_FORBIDDEN"})

    async def publish(self, topic: str, event: EventEnvelope) -> None:
        self._check_broker(topic)
        self.published.append((topic, event))

    async def publish_cloud_event(self, topic: str, cloud_event: dict[str, Any]) -> None:
        self._check_broker(topic)
        self.cloud_events.append((topic, copy.deepcopy(cloud_event)))

    def _live(self, slot: tuple[str, str]) -> StateItem | None:
        """The item in a slot unless its TTL ran out (then it is gone, as in the real stores)."""
        if slot in self.expires and self.expires[slot] <= self.clock():
            self.state.pop(slot, None)
            self.expires.pop(slot, None)
        return self.state.get(slot)

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        item = self._live((store or "statestore", key))
        return None if item is None else StateItem(copy.deepcopy(item.value), item.etag)

    async def get_bulk_state(self, keys: Sequence[str], *, store: str | None = None) -> dict[str, StateItem]:
        items = {key: await self.get_state(key, store=store) for key in keys}
        return {key: item for key, item in items.items() if item is not None}

    async def save_state(
        self, key: str, value: Any, *, etag: str | None = None, store: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        slot = (store or "statestore", key)
        current = self._live(slot)
        if etag is not None and (current is None or current.etag != etag):
            raise ETagMismatch("The value changed meanwhile.")
        self.state[slot] = StateItem(copy.deepcopy(value), uuid.uuid4().hex)
        self.expires.pop(slot, None)
        if ttl_seconds is not None:
            self.expires[slot] = self.clock() + ttl_seconds

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        name = store or "statestore"
        for op in operations:  # check everything first: all or nothing
            current = self._live((name, op.key))
            if op.etag is not None and (current is None or current.etag != op.etag):
                raise ETagMismatch("The value changed meanwhile.")
            if op.insert_only and op.etag is None and current is not None:
                raise ETagMismatch("The value changed meanwhile.")
        for op in operations:
            slot = (name, op.key)
            self.expires.pop(slot, None)
            if op.delete:
                self.state.pop(slot, None)
                continue
            self.state[slot] = StateItem(copy.deepcopy(op.value), uuid.uuid4().hex)
            if op.ttl_seconds is not None:
                self.expires[slot] = self.clock() + op.ttl_seconds

    async def get_secret(self, key: str, *, store: str | None = None) -> str:
        if key not in self.secrets:
            raise SecretUnavailable(f"Secret {key} is not available.")
        return self.secrets[key]

    async def outbound_ready(self) -> bool:
        return True

    def staged_events(self, store: str = "statestore") -> list[tuple[str, dict[str, Any]]]:
        """The (topic, payload) pairs waiting in a StateOutbox, oldest first across its shards."""
        entries = [
            entry
            for key in outbox_keys()
            if (item := self.state.get((store, key))) is not None
            for entry in item.value.get("pending", [])
        ]
        entries.sort(key=lambda entry: str(entry["event"]["occurredAt"]))
        return [(entry["topic"], entry["event"]["payload"]) for entry in entries]

    def indexed(self, name: str, store: str = "statestore") -> list[str]:
        """The ids of a servicekit.index.PagedIndex, oldest first."""
        ids: list[str] = []
        page = 0
        while (item := self.state.get((store, f"{name}:page:{page}"))) is not None:
            ids += item.value["ids"]
            page += 1
        return ids

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.published]


class InterleavingSidecar(FakeSidecar):
    """Yields to the event loop around every state call, as a real sidecar's network calls do, so gathered
    use cases and deliveries really interleave. Counts the writes that lost on an ETag (`clashes`)."""

    clashes = 0

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        await asyncio.sleep(0)
        item = await super().get_state(key, store=store)
        await asyncio.sleep(0)
        return item

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await asyncio.sleep(0)
        try:
            await super().transact(operations, store=store)
        except ETagMismatch:
            self.clashes += 1
            raise
