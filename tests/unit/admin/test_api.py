"""admin's HTTP edges through its real app: the dead-letter subscription and the dead-letter API."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from apps.admin.deadletters.storage import INDEX_KEY, letter_key
from servicekit import DependencyUnavailable
from servicekit.sidecar import StateItem, StateOp
from tests.unit.admin.helpers import client, cloud_event, envelope
from tests.unit.fakes import FakeSidecar

CLOUD_EVENT_JSON = {"content-type": "application/cloudevents+json"}


def deliver(
    sidecar: FakeSidecar, body: bytes, headers: dict[str, str] | None = None, *, subscriber: str | None = None
) -> Any:
    """Deliver on the shared dead-letter topic, or on `subscriber`'s own."""
    route = "/deadletters" if subscriber is None else f"/deadletters/{subscriber}"
    response = client(sidecar).post(route, content=body, headers=headers or CLOUD_EVENT_JSON)
    assert response.status_code == 200
    return response.json()


def assert_refused(response: httpx.Response, status: int, code: str) -> Any:
    """admin is inside the mesh: a refusal travels as HTTP 200, its real status in the envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is False
    assert body["statusCode"] == status
    assert body["error"]["code"] == code
    return body["error"]


def letters(sidecar: FakeSidecar) -> list[Any]:
    index = sidecar.indexed(INDEX_KEY)
    return [sidecar.state[("statestore", letter_key(i))].value for i in index]


def test_any_delivery_is_stored_and_answered_success(sidecar: FakeSidecar) -> None:
    event = cloud_event("user.registered")
    bodies = [json.dumps(event).encode(), b'["garbage", {"json": true}]', b"<<not json>>", b""]
    for body in bodies:
        assert deliver(sidecar, body) == {"status": "SUCCESS"}
    assert deliver(sidecar, b"plain text", {"content-type": "text/plain"}) == {"status": "SUCCESS"}
    assert [letter["cloudEvent"] for letter in letters(sidecar)] == [
        event,
        ["garbage", {"json": True}],
        {"raw": "<<not json>>"},
        {"raw": ""},
        {"raw": "plain text"},
    ]


def test_redelivered_dead_letter_is_answered_success_and_stored_once(sidecar: FakeSidecar) -> None:
    body = json.dumps(cloud_event()).encode()
    assert deliver(sidecar, body) == deliver(sidecar, body) == {"status": "SUCCESS"}
    assert len(letters(sidecar)) == 1


def test_dead_letter_bigger_than_the_usual_body_limit_is_kept(sidecar: FakeSidecar) -> None:
    event = cloud_event(data=envelope(blob="x" * 200_000))
    assert deliver(sidecar, json.dumps(event).encode()) == {"status": "SUCCESS"}
    assert letters(sidecar)[0]["cloudEvent"] == event


class StoreDown(FakeSidecar):
    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        raise DependencyUnavailable("Reading state failed.", code="STATE_UNAVAILABLE")

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        raise DependencyUnavailable("Saving state failed.", code="STATE_UNAVAILABLE")


def test_store_down_asks_dapr_to_retry() -> None:
    assert deliver(StoreDown(), json.dumps(cloud_event()).encode()) == {"status": "RETRY"}
    assert deliver(StoreDown(), b"garbage") == {"status": "RETRY"}


def test_list_is_enveloped_newest_first_and_paged(sidecar: FakeSidecar) -> None:
    events = [cloud_event(f"topic.{n}") for n in range(3)]
    for event in events:
        deliver(sidecar, json.dumps(event).encode())
    api = client(sidecar)

    body = api.get("/dead-letters").json()
    assert body["success"] is True
    assert body["data"]["total"] == 3
    assert [item["cloudEvent"] for item in body["data"]["items"]] == events[::-1]
    first = body["data"]["items"][0]
    assert set(first) == {
        "id",
        "receivedAt",
        "originalTopic",
        "eventId",
        "status",
        "replays",
        "replayedAt",
        "subscriber",
        "replayOf",
        "failedAgainAs",
        "cloudEvent",
    }
    assert (first["originalTopic"], first["eventId"], first["status"], first["replays"]) == (
        "topic.2",
        events[2]["id"],
        "PENDING",
        0,
    )
    paged = api.get("/dead-letters", params={"limit": 1, "offset": 1}).json()["data"]
    assert ([item["eventId"] for item in paged["items"]], paged["total"]) == ([events[1]["id"]], 3)


def test_list_refuses_bad_paging(sidecar: FakeSidecar) -> None:
    api = client(sidecar)
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}):
        response = api.get("/dead-letters", params=params)
        assert_refused(response, 422, "VALIDATION_FAILED")


def test_replay_goes_to_the_subscribers_replay_topic_and_answers_the_replayed_letter(sidecar: FakeSidecar) -> None:
    data = envelope(paymentId="p-1", orderId="o-1")
    deliver(sidecar, json.dumps(cloud_event("payment.succeeded", data)).encode(), subscriber="orders")
    letter_id = letters(sidecar)[0]["id"]

    response = client(sidecar).post(f"/dead-letters/{letter_id}/replay")
    assert response.status_code == 200
    replayed = response.json()["data"]
    assert (replayed["id"], replayed["status"], replayed["replays"]) == (letter_id, "REPLAYED", 1)
    assert replayed["replayedAt"].endswith("Z")
    [(topic, sent)] = sidecar.cloud_events
    assert (topic, sent["type"], sent["id"], sent["source"], sent["data"]) == (
        "replays.orders",
        "payment.succeeded",
        data["eventId"],
        "admin",
        data,
    )
    assert sidecar.published == []  # never payment.succeeded itself: only payments may publish that


def test_replay_of_a_letter_from_the_shared_topic_is_422_no_subscriber(sidecar: FakeSidecar) -> None:
    deliver(sidecar, json.dumps(cloud_event("payment.succeeded")).encode())
    response = client(sidecar).post(f"/dead-letters/{letters(sidecar)[0]['id']}/replay")
    error = assert_refused(response, 422, "DEAD_LETTER_NOT_REPLAYABLE")
    assert error["details"] == {"reason": "NO_SUBSCRIBER"}
    assert (sidecar.cloud_events, sidecar.published, letters(sidecar)[0]["status"]) == ([], [], "PENDING")


def test_replay_of_unknown_letter_is_404(sidecar: FakeSidecar) -> None:
    response = client(sidecar).post(f"/dead-letters/{uuid.uuid4().hex}/replay")
    assert_refused(response, 404, "DEAD_LETTER_NOT_FOUND")


def test_replay_of_garbage_is_422_with_the_reason(sidecar: FakeSidecar) -> None:
    body = json.dumps(cloud_event("order.created", {"eventId": "only-an-id"})).encode()
    deliver(sidecar, body, subscriber="payments")
    response = client(sidecar).post(f"/dead-letters/{letters(sidecar)[0]['id']}/replay")
    error = assert_refused(response, 422, "DEAD_LETTER_NOT_REPLAYABLE")
    assert error["details"]["reason"] == "INVALID_ENVELOPE"
    assert {problem["field"] for problem in error["details"]["problems"]} >= {"schemaVersion", "payload"}
    assert sidecar.cloud_events == []


def test_replay_with_the_broker_down_is_503(sidecar: FakeSidecar) -> None:
    deliver(sidecar, json.dumps(cloud_event()).encode(), subscriber="payments")
    sidecar.broker_down = True
    response = client(sidecar).post(f"/dead-letters/{letters(sidecar)[0]['id']}/replay")
    assert response.status_code == 200  # admin answered: its broker is what is down
    assert (response.json()["statusCode"], response.json()["error"]["code"]) == (503, "PUBLISH_FAILED")
    assert letters(sidecar)[0]["status"] == "PENDING"
