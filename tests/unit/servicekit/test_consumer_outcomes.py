"""What a handler's error makes of a delivery: a refusal is dropped, anything that may pass later is retried."""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.consumer import Consumer
from servicekit.errors import Conflict, DependencyUnavailable, JunctionError, NotFound, RateLimited, ValidationFailed
from servicekit.events import Delivery, EventEnvelope, new_event

TOPIC = "order.created"

pytestmark = pytest.mark.anyio


async def outcome_of(error: Exception) -> Delivery:
    consumer: Consumer[object] = Consumer("payments")

    @consumer.on(TOPIC)
    async def handle(event: EventEnvelope, services: object) -> None:
        raise error

    cloud_event: dict[str, Any] = {
        "id": "e-1",
        "data": new_event({"orderId": "o-1"}).model_dump(mode="json", by_alias=True),
    }
    return await consumer.deliver(TOPIC, cloud_event, object())


@pytest.mark.parametrize(
    "error",
    [
        ValidationFailed("The payload is not an order.", code="INVALID_PAYLOAD"),
        NotFound("No such order.", code="UNKNOWN_ORDER"),
        Conflict("The order moved on.", code="ORDER_NOT_PENDING"),
    ],
)
async def test_a_refusal_goes_to_the_dead_letters(error: JunctionError) -> None:
    assert await outcome_of(error) is Delivery.DROP


@pytest.mark.parametrize(
    "error",
    [
        Conflict("Someone else wrote first.", code="ETAG_MISMATCH"),
        Conflict("Too much contention; try again.", code="CONTENDED"),
        RateLimited("Slow down.", retry_after=1),
        DependencyUnavailable("The state store is unavailable.", code="STATE_UNAVAILABLE"),
        RuntimeError("a bug"),
    ],
)
async def test_what_may_pass_later_is_retried(error: Exception) -> None:
    """A lost write race changed nothing: dropping it would lose the event to the dead letters."""
    assert await outcome_of(error) is Delivery.RETRY
