"""The background loop both outboxes share: a pass when kicked after a commit, and one per interval.

An entry that can never be sent (its body is unreadable, or the sidecar refuses it for good) is set
aside: published whole to the dead-letter topic with its error, where admin lists it, so the entries
behind it go on. A transient failure (broker down, 5xx, timeout) stops the pass instead, keeping order.
Each pass records what it saw still pending in `backlog`, which the app's metrics export while the relay runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

from servicekit.consumer import DEAD_LETTER_TOPIC
from servicekit.context import request_id_var
from servicekit.errors import JunctionError
from servicekit.events import EventEnvelope
from servicekit.metrics import SET_ASIDE, OutboxBacklog, unwatch_outbox, watch_outbox
from servicekit.sidecar import PublishRefused, SidecarClient
from servicekit.tasks import cancelling
from servicekit.tracing import publishing, valid_traceparent

log = logging.getLogger("servicekit.relay")


class Relay(ABC):
    """Runs `relay_pass` in a task; `async with relay:` starts it and stops it."""

    outbox: ClassVar[str]
    """The kind of outbox, its metrics' `outbox` label (`sql`, `state`)."""

    def __init__(
        self, *, sidecar: SidecarClient, interval_seconds: float, name: str, dead_letter_topic: str = DEAD_LETTER_TOPIC
    ) -> None:
        self.sidecar = sidecar
        self.interval_seconds = interval_seconds
        self.name = name
        self.dead_letter_topic = dead_letter_topic
        self.backlog = OutboxBacklog()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Ask for a pass now (after a commit that staged events)."""
        self._wake.set()

    @abstractmethod
    async def relay_pass(self, *, kicked: bool) -> None:
        """Publish what is staged; `kicked` is False on the interval pass (the safety net after a crash)."""

    async def publish(self, topic: str, event: EventEnvelope) -> None:
        """Publish one staged event under the request id and in the trace it was staged with."""
        token = request_id_var.set(event.request_id)
        try:
            with publishing(topic, valid_traceparent(event.traceparent)):
                await self.sidecar.publish(topic, event)
        finally:
            request_id_var.reset(token)

    async def refusal_of(self, topic: str, event: EventEnvelope) -> str | None:
        """Publish; None when sent, the sidecar's reason when it refuses for good (transient errors propagate)."""
        try:
            await self.publish(topic, event)
        except PublishRefused as exc:
            return f"{exc.code}: {exc.message} {exc.details}"
        return None

    async def set_aside(self, topic: str, event_id: str, data: Any, error: str) -> None:
        """Dead-letter an entry that can never be sent, with its error; raises if even that fails."""
        cloud_event = {
            "specversion": "1.0",
            "id": event_id,
            "source": self.name,
            "type": topic,
            "datacontenttype": "application/json",
            "data": data,
            "junctionerror": error,
        }
        await self.sidecar.publish_cloud_event(self.dead_letter_topic, cloud_event)
        SET_ASIDE.labels(topic).inc()
        log.error("%s set %s event %s aside in %s: %s", self.name, topic, event_id, self.dead_letter_topic, error)

    async def _loop(self) -> None:
        while True:
            kicked = False
            with contextlib.suppress(TimeoutError):
                kicked = await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()
            try:
                await self.relay_pass(kicked=kicked)
            except JunctionError as exc:
                log.warning("%s will retry: %s", self.name, exc.message)
            except asyncio.CancelledError:
                if cancelling():
                    raise
                # Raised into the pass by a library, not a stop: a relay that ended here would publish nothing more.
                log.exception("%s pass was cut short; will retry", self.name)
            except Exception:
                log.exception("%s pass failed; will retry", self.name)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)
        watch_outbox(self.outbox, self.backlog)
        self.kick()

    async def stop(self) -> None:
        unwatch_outbox(self.outbox, self.backlog)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
