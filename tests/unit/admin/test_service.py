"""Dead-letter use cases on admin's real Dapr-state repository, over the FakeSidecar."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from apps.admin.deadletters import service
from apps.admin.deadletters.domain import DeadLetterNotFound, DeadLetterNotReplayable, DeadLetterStatus, fingerprint
from apps.admin.deadletters.storage import INDEX_KEY, DaprStateDeadLetterRepository, event_key, letter_key
from servicekit import DependencyUnavailable, EventEnvelope
from servicekit.sidecar import PublishRefused, StateOp
from tests.unit.admin.helpers import cloud_event, envelope
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


def stored(sidecar: FakeSidecar, key: str) -> Any:
    item = sidecar.state.get(("statestore", key))
    return None if item is None else item.value


async def record(sidecar: FakeSidecar, body: Any, subscriber: str | None = None) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    repository = DaprStateDeadLetterRepository(sidecar)
    return await service.record_dead_letter(raw, dead_letters=repository, subscriber=subscriber)


async def test_cloud_event_is_stored_pending_indexed_and_marked_by_event_id(sidecar: FakeSidecar) -> None:
    event = cloud_event("payment.failed")
    letter_id = await record(sidecar, event)
    document = stored(sidecar, letter_key(letter_id))
    assert document["receivedAt"].endswith("Z")
    assert {k: v for k, v in document.items() if k != "receivedAt"} == {
        "id": letter_id,
        "originalTopic": "payment.failed",
        "eventId": event["id"],
        "cloudEvent": event,
        "status": "PENDING",
        "replayedAt": None,
        "replays": 0,
        "subscriber": None,
        "replayOf": None,
        "failedAgainAs": None,
    }
    assert sidecar.indexed(INDEX_KEY) == [letter_id]
    assert stored(sidecar, f"deadletter-event:{event['id']}") == {"id": letter_id, "seen": [fingerprint(event)]}


@pytest.mark.parametrize("garbage", [[1, 2, 3], {"hello": "world"}, "just a string", None, 12.5])
async def test_garbage_json_is_stored_as_it_arrived(garbage: Any, sidecar: FakeSidecar) -> None:
    letter_id = await record(sidecar, garbage)
    document = stored(sidecar, letter_key(letter_id))
    assert (document["cloudEvent"], document["originalTopic"], document["eventId"]) == (garbage, None, None)


async def test_non_json_body_is_stored_as_text_and_never_deduplicated(sidecar: FakeSidecar) -> None:
    first, second = await record(sidecar, b"\x00garbage"), await record(sidecar, b"\x00garbage")
    assert first != second
    assert stored(sidecar, letter_key(first))["cloudEvent"] == {"raw": "\x00garbage"}
    assert sidecar.indexed(INDEX_KEY) == [first, second]


async def test_redelivered_event_id_is_stored_once(sidecar: FakeSidecar) -> None:
    event = cloud_event()
    first = await record(sidecar, event)
    again = await record(sidecar, {**event, "traceparent": "00-redelivered"})
    assert again == first
    assert sidecar.indexed(INDEX_KEY) == [first]
    assert len([key for _, key in sidecar.state if key.startswith("deadletter:")]) == 1


async def test_odd_event_ids_get_a_safe_marker_key(sidecar: FakeSidecar) -> None:
    event = cloud_event(id="a||b c/ü")
    letter_id = await record(sidecar, event)
    assert event_key("a||b c/ü").startswith("deadletter-event:sha256-")
    assert event_key("abc\n").startswith("deadletter-event:sha256-")
    assert stored(sidecar, event_key("a||b c/ü"))["id"] == letter_id
    assert await record(sidecar, event) == letter_id


class RacedSidecar(FakeSidecar):
    """Lets a concurrent delivery of the same dead letter commit just before the first transaction."""

    def __init__(self, rival: bytes) -> None:
        super().__init__()
        self.rival: bytes | None = rival
        self.rival_id: str | None = None

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            self.rival_id = await service.record_dead_letter(rival, dead_letters=DaprStateDeadLetterRepository(self))
        await super().transact(operations, store=store)


async def test_concurrent_deliveries_of_one_event_id_store_it_once() -> None:
    body = json.dumps(cloud_event()).encode()
    sidecar = RacedSidecar(rival=body)
    letter_id = await service.record_dead_letter(body, dead_letters=DaprStateDeadLetterRepository(sidecar))
    assert letter_id == sidecar.rival_id
    assert sidecar.indexed(INDEX_KEY) == [letter_id]


async def test_concurrent_deliveries_of_different_events_both_get_indexed() -> None:
    sidecar = RacedSidecar(rival=json.dumps(cloud_event()).encode())
    letter_id = await service.record_dead_letter(
        json.dumps(cloud_event()).encode(), dead_letters=DaprStateDeadLetterRepository(sidecar)
    )
    assert sidecar.indexed(INDEX_KEY) == [sidecar.rival_id, letter_id]


async def test_listing_is_newest_first_and_paged(sidecar: FakeSidecar) -> None:
    ids = [await record(sidecar, cloud_event()) for _ in range(5)]
    repository = DaprStateDeadLetterRepository(sidecar)

    async def page(limit: int, offset: int) -> tuple[list[str], int]:
        letters, total = await service.list_dead_letters(limit=limit, offset=offset, dead_letters=repository)
        return [letter.id for letter in letters], total

    assert await page(50, 0) == (ids[::-1], 5)
    assert await page(2, 1) == ([ids[3], ids[2]], 5)
    assert await page(2, 4) == ([ids[0]], 5)
    assert await page(2, 5) == ([], 5)
    assert (
        await service.list_dead_letters(limit=5, offset=0, dead_letters=DaprStateDeadLetterRepository(FakeSidecar()))
    )[1] == 0


async def replay(sidecar: FakeSidecar, letter_id: str) -> Any:
    return await service.replay_dead_letter(
        letter_id, dead_letters=DaprStateDeadLetterRepository(sidecar), sidecar=sidecar
    )


async def test_replay_publishes_the_original_envelope_to_the_subscribers_replay_topic_and_counts(
    sidecar: FakeSidecar,
) -> None:
    data = envelope(orderId="o-1", userId="u-1", total=12.5)
    letter_id = await record(sidecar, cloud_event("order.created", data), "payments")

    letter = await replay(sidecar, letter_id)
    [(topic, sent)] = sidecar.cloud_events
    assert (topic, sent["type"], sent["id"], sent["source"]) == (
        "replays.payments",
        "order.created",
        data["eventId"],
        "admin",
    )
    event = EventEnvelope.model_validate(sent["data"])
    assert (event.event_id, event.request_id, event.payload) == (data["eventId"], data["requestId"], data["payload"])
    assert sidecar.published == []  # nothing on order.created: the other subscribers applied it already
    assert (letter.status, letter.replays) == (DeadLetterStatus.REPLAYED, 1)
    document = stored(sidecar, letter_key(letter_id))
    assert (document["status"], document["replays"]) == ("REPLAYED", 1)
    assert document["replayedAt"].endswith("Z")

    assert (await replay(sidecar, letter_id)).replays == 2
    assert [(t, e["id"]) for t, e in sidecar.cloud_events] == [("replays.payments", data["eventId"])] * 2
    first, second = (e["time"] for _, e in sidecar.cloud_events)
    assert first < second  # each replay differs from the last, so a second failure is a new letter


async def test_replaying_an_unknown_dead_letter_is_not_found(sidecar: FakeSidecar) -> None:
    with pytest.raises(DeadLetterNotFound) as caught:
        await replay(sidecar, uuid.uuid4().hex)
    assert (caught.value.status, caught.value.code) == (404, "DEAD_LETTER_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "subscriber", "reason"),
    [
        (json.dumps(cloud_event("order.created")).encode(), None, "NO_SUBSCRIBER"),
        (b"not json", None, "NO_SUBSCRIBER"),
        (b"not json", "payments", "NO_ORIGINAL_TOPIC"),
        (json.dumps({"id": "x", "data": envelope()}).encode(), "payments", "NO_ORIGINAL_TOPIC"),
        (json.dumps(cloud_event("order.created", {"not": "an envelope"})).encode(), "payments", "INVALID_ENVELOPE"),
        (json.dumps(cloud_event("order.created", junctionerror="x")).encode(), "orders", "SET_ASIDE_BY_PUBLISHER"),
    ],
)
async def test_non_replayable_letter_publishes_nothing_and_stays_pending(
    body: bytes,
    subscriber: str | None,
    reason: str,
    sidecar: FakeSidecar,
) -> None:
    letter_id = await record(sidecar, body, subscriber)
    with pytest.raises(DeadLetterNotReplayable) as caught:
        await replay(sidecar, letter_id)
    assert caught.value.details["reason"] == reason
    assert (sidecar.published, sidecar.cloud_events) == ([], [])
    assert stored(sidecar, letter_key(letter_id))["status"] == "PENDING"


async def test_a_replay_the_broker_refuses_leaves_the_letter_pending(sidecar: FakeSidecar) -> None:
    letter_id = await record(sidecar, cloud_event(), "payments")
    sidecar.refused_topics.add("replays.payments")  # e.g. a topic scope that does not let admin publish it
    with pytest.raises(PublishRefused):
        await replay(sidecar, letter_id)
    document = stored(sidecar, letter_key(letter_id))
    assert (document["status"], document["replays"]) == ("PENDING", 0)


async def test_broker_down_leaves_the_letter_pending(sidecar: FakeSidecar) -> None:
    letter_id = await record(sidecar, cloud_event(), "payments")
    sidecar.broker_down = True
    with pytest.raises(DependencyUnavailable):
        await replay(sidecar, letter_id)
    document = stored(sidecar, letter_key(letter_id))
    assert (document["status"], document["replays"]) == ("PENDING", 0)
