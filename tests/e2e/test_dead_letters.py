"""Dead letters on the real stack: who failed, a replay reaches only that subscriber (on its own replay topic),
one that fails again stays visible, a fixed one lands."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.conftest import wait_until
from tests.e2e.test_order_flow import Json
from tools.stack import Stack


def recent() -> str:
    """Now, as an event time: admin replays only events younger than its replay horizon."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def letters_of(gateway: httpx.Client, admin_auth: dict[str, str], event_id: str) -> list[Json]:
    response = gateway.get("/admin/dead-letters", params={"limit": 100}, headers=admin_auth)
    items: list[Json] = response.json()["data"]["items"]
    return [letter for letter in items if letter["eventId"] == event_id and letter["subscriber"] == "payments"]


def ledger(stack: Stack, order_id: str) -> list[Json]:
    """The simulated provider's books, read from payments itself (as its own sidecar would call it)."""
    payments = stack.apps["payments"]
    response = httpx.get(
        f"{payments.app_url}/provider/ledger",
        params={"orderId": order_id},
        headers={"dapr-api-token": payments.app_token},
        timeout=10,
    )
    items: list[Json] = response.json()["data"]["items"]
    return items


def subscribed_topics(stack: Stack, app_id: str) -> set[str]:
    """The topics an app's sidecar has subscribed, from its own metadata API."""
    app = stack.apps[app_id]
    response = httpx.get(f"{app.sidecar_url}/v1.0/metadata", headers={"dapr-api-token": app.dapr_token}, timeout=10)
    response.raise_for_status()
    return {str(subscription["topic"]) for subscription in response.json().get("subscriptions", [])}


def test_each_subscriber_alone_reads_its_own_replay_topic(stack: Stack) -> None:
    readers = {
        app_id: {t for t in subscribed_topics(stack, app_id) if t.startswith("replays.")} for app_id in stack.apps
    }
    consumers = ("orders", "payments", "notifications", "analytics", "gateway")  # the gateway: cache, feed
    assert {app_id: topics for app_id, topics in readers.items() if topics} == {
        app: {f"replays.{app}"} for app in consumers
    }


def test_admin_may_not_publish_the_events_it_replays(stack: Stack) -> None:
    """Replays work without it: admin's sidecar refuses an owner's topic (topic scoping)."""
    event_id = uuid.uuid4().hex
    envelope = {"eventId": event_id, "schemaVersion": 1, "occurredAt": recent(), "payload": {}}
    with pytest.raises(httpx.HTTPStatusError) as refused:
        stack.publish("order.created", event_id, envelope, via="admin")
    assert refused.value.response.status_code == 403


def test_a_replay_that_fails_again_is_a_new_letter_and_a_fixed_replay_charges_once(
    gateway: httpx.Client, stack: Stack, admin_auth: dict[str, str]
) -> None:
    order_id, event_id = uuid.uuid4().hex, uuid.uuid4().hex
    good = {"orderId": order_id, "userId": uuid.uuid4().hex, "total": 12.5, "items": [], "paymentToken": "tok_ok"}
    poison = {**good, "total": "twelve"}  # payments refuses it (DROP): straight to its dead-letter topic
    envelope = {"eventId": event_id, "schemaVersion": 1, "occurredAt": recent(), "payload": poison}
    stack.publish("order.created", event_id, envelope)

    (first,) = wait_until(
        lambda: letters_of(gateway, admin_auth, event_id), bool, timeout=30, what="payments' dead letter"
    )
    assert (first["originalTopic"], first["status"], first["replayOf"]) == ("order.created", "PENDING", None)

    replayed = gateway.post(f"/admin/dead-letters/{first['id']}/replay", headers=admin_auth)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["data"]["status"] == "REPLAYED"

    second, old = wait_until(
        lambda: letters_of(gateway, admin_auth, event_id),
        lambda found: len(found) == 2,
        timeout=30,
        what="the replay's failure as a new letter",
    )
    assert (second["status"], second["replayOf"]) == ("PENDING", first["id"])
    # The replay travelled on payments' own replay topic, still named after the event's topic.
    replay = second["cloudEvent"]
    assert (replay["topic"], replay["type"], replay["id"], replay["source"]) == (
        "replays.payments",
        "order.created",
        event_id,
        "admin",
    )
    assert second["originalTopic"] == "order.created"
    assert (old["id"], old["status"], old["failedAgainAs"]) == (first["id"], "FAILED_AGAIN", second["id"])

    fixed = gateway.post(f"/admin/dead-letters/{second['id']}/replay", json={"payload": good}, headers=admin_auth)
    assert fixed.status_code == 200, fixed.text
    (entry,) = wait_until(lambda: ledger(stack, order_id), bool, timeout=30, what="the corrected charge")
    assert (entry["status"], entry["captures"], entry["refunds"]) == ("CAPTURED", 1, 0)

    time.sleep(3)  # long enough for a failure of the fixed replay to come back, were there one
    assert [letter["status"] for letter in letters_of(gateway, admin_auth, event_id)] == ["REPLAYED", "FAILED_AGAIN"]
    again = gateway.post(f"/admin/dead-letters/{second['id']}/replay", json={"payload": good}, headers=admin_auth)
    assert again.status_code == 200, again.text
    time.sleep(2)
    assert ledger(stack, order_id)[0]["captures"] == 1  # a second replay of a charge charges nothing more


def test_unknown_dead_letter_ids_are_refused_at_the_edge(gateway: httpx.Client, admin_auth: dict[str, str]) -> None:
    missing = gateway.post(f"/admin/dead-letters/{uuid.uuid4().hex}/replay", headers=admin_auth)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "DEAD_LETTER_NOT_FOUND")
    bad = gateway.post("/admin/dead-letters/%00/replay", headers=admin_auth)
    assert (bad.status_code, bad.json()["success"]) == (422, False)
