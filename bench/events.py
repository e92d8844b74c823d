"""The least one event costs the platform: published by a sidecar, carried by the broker, answered by an app.

admin's sidecar publishes `count` events on `replays.gateway` (the only publisher that topic allows), each an
`order.confirmed` as a replay carries it; the gateway's handler puts it on its live feed, which nobody reads,
and answers SUCCESS: no state read or written, no call. Every process's CPU from before the first publish
until the gateway has counted the last delivery, less what the process burns idle in as long, divided by the
events, is the floor under each event of an order's fan-out: its publisher's sidecar, the broker, the
subscriber's sidecar and a handler that does nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.processes import Watched, cpu_ms_between, snapshot
from servicekit import new_event
from servicekit.consumer import replay_cloud_event, replay_topic_of
from tools.stack import Stack

TOPIC = "order.confirmed"
SUBSCRIBER = "gateway"
POLL_SECONDS = 0.5


class EventsNotDelivered(RuntimeError):
    """Raised when the gateway had not counted every event within the bound."""


@dataclass(frozen=True)
class EventFloor:
    events: int
    seconds: float
    """From the first publish until the last delivery was counted."""
    cpu_ms_per_event: dict[str, float]
    """Every watched process's CPU time per event, above its idle burn."""


def delivered(metrics_text: str, topic: str = TOPIC) -> float:
    """Deliveries of `topic` an app has counted, whatever became of them (servicekit.metrics)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        if family.name == "junction_event_deliveries"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("topic") == topic
    )


async def measure_event_floor(
    stack: Stack, watched: list[Watched], *, idle_ms_per_s: dict[str, float], count: int, bound: float = 60.0
) -> EventFloor:
    """Publish `count` replays to the gateway through admin's sidecar and wait until each was delivered.

    `idle_ms_per_s` is each process's idle burn (measured before), taken off what it spent meanwhile.
    """
    admin, gateway = stack.apps["admin"], stack.apps[SUBSCRIBER]
    url = f"{admin.sidecar_url}/v1.0/publish/pubsub/{replay_topic_of(SUBSCRIBER)}"
    headers = {"dapr-api-token": admin.dapr_token, "content-type": "application/cloudevents+json"}
    async with httpx.AsyncClient(timeout=10) as client:

        async def counted() -> float:
            response = await client.get(gateway.metrics_url)
            response.raise_for_status()
            return delivered(response.text)

        already = await counted()
        before = snapshot(watched)
        for _ in range(count):
            event = new_event({"orderId": uuid.uuid4().hex, "userId": uuid.uuid4().hex, "paymentId": uuid.uuid4().hex})
            body = replay_cloud_event(TOPIC, event, source="bench", now=datetime.now(UTC))
            (await client.post(url, content=json.dumps(body), headers=headers)).raise_for_status()
        deadline = time.monotonic() + bound
        while await counted() - already < count:
            if time.monotonic() > deadline:
                raise EventsNotDelivered(f"the gateway counted {await counted() - already:.0f} of {count} events")
            await asyncio.sleep(POLL_SECONDS)
        after = snapshot(watched)
    seconds = after.at - before.at
    spent = {name: ms - idle_ms_per_s.get(name, 0.0) * seconds for name, ms in cpu_ms_between(before, after).items()}
    return EventFloor(count, seconds, {name: max(0.0, ms) / count for name, ms in spent.items()})
