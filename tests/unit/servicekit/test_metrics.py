"""What every app measures (servicekit.metrics): requests by route template and real status, deliveries by
outcome, the outboxes' backlog as of their last pass (aged at scrape time), refusals by an open breaker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from servicekit import DependencyUnavailable, NotFound, ok
from servicekit.consumer import Consumer
from servicekit.errors import ServiceUnavailable, ValidationFailed
from servicekit.events import Delivery, EventEnvelope, new_event
from servicekit.metrics import UNMATCHED, OutboxBacklog, unwatch_outbox, watch_outbox
from servicekit.sidecar import StateOp, unwrap_envelope
from servicekit.state_outbox import StateOutbox
from tests.unit.fakes import FakeSidecar
from tests.unit.servicekit.helpers import build_app, sample

SIDECAR_TOKEN = "token-the-sidecar-sends-" + "m" * 8
THING = "/metered/{thing_id}"
OUTCOMES = ("applied", "duplicate", "dropped", "retry")

router = APIRouter()


@router.get(THING)
async def read_thing(thing_id: str) -> JSONResponse:
    if thing_id == "missing":
        raise NotFound("No such thing.", code="THING_NOT_FOUND")
    return ok({"id": thing_id})


included = APIRouter()


@included.get("/parts/{part}")
async def read_part(part: str) -> JSONResponse:
    return ok({"part": part})


def requests(route: str, status: int, method: str = "GET") -> float:
    return sample("junction_http_requests_total", method=method, route=route, status=str(status))


def seen(outbox: StateOutbox) -> tuple[int, float | None]:
    """What the relay last saw pending: how many entries, and the oldest one's staging time."""
    return outbox.backlog.seen


def dump(event: EventEnvelope) -> dict[str, Any]:
    return event.model_dump(mode="json", by_alias=True)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """An app inside the mesh (a refusal goes as 200 with its real status), guarded by its sidecar's token."""
    app = build_app([router], app_api_token=SIDECAR_TOKEN)
    app.include_router(included, prefix="/outer")
    with TestClient(app, headers={"dapr-api-token": SIDECAR_TOKEN}) as client:
        yield client


def test_a_request_counts_under_its_route_template_never_its_path(client: TestClient) -> None:
    before, timed = (
        requests(THING, 200),
        sample("junction_http_request_duration_seconds_count", method="GET", route=THING),
    )
    ids = [uuid.uuid4().hex for _ in range(3)]
    for thing_id in ids:
        assert client.get(f"/metered/{thing_id}").status_code == 200
    assert requests(THING, 200) == before + 3
    assert sample("junction_http_request_duration_seconds_count", method="GET", route=THING) == timed + 3
    routes = {s.labels.get("route") for m in REGISTRY.collect() for s in m.samples}
    assert not any(thing_id in str(route) for thing_id in ids for route in routes)


def test_a_refusal_sent_as_200_inside_the_mesh_counts_as_its_real_status(client: TestClient) -> None:
    before_404, before_200 = requests(THING, 404), requests(THING, 200)
    response = client.get("/metered/missing")
    assert (response.status_code, response.json()["statusCode"]) == (200, 404)
    assert (requests(THING, 404), requests(THING, 200)) == (before_404 + 1, before_200)


def test_paths_no_route_matches_share_one_label(client: TestClient) -> None:
    before = requests(UNMATCHED, 404)
    for _ in range(2):
        assert client.get(f"/nowhere/{uuid.uuid4().hex}").json()["statusCode"] == 404
    assert requests(UNMATCHED, 404) == before + 2


def test_a_call_refused_before_routing_counts_under_the_route_it_was_meant_for(client: TestClient) -> None:
    before = requests(THING, 401)
    assert client.get("/metered/x", headers={"dapr-api-token": "not-it"}).status_code == 401
    assert requests(THING, 401) == before + 1


def test_an_included_router_counts_under_the_whole_template_with_its_prefix(client: TestClient) -> None:
    before_ok, before_refused = requests("/outer/parts/{part}", 200), requests("/outer/parts/{part}", 401)
    assert client.get("/outer/parts/wheel").status_code == 200
    assert client.get("/outer/parts/wheel", headers={"dapr-api-token": "not-it"}).status_code == 401
    assert requests("/outer/parts/{part}", 200) == before_ok + 1
    assert requests("/outer/parts/{part}", 401) == before_refused + 1


def test_a_method_http_does_not_know_counts_as_other(client: TestClient) -> None:
    before = requests(UNMATCHED, 404, method="OTHER") + requests(THING, 405, method="OTHER")
    client.request("BREW", "/metered/x")
    assert requests(UNMATCHED, 404, method="OTHER") + requests(THING, 405, method="OTHER") == before + 1


def test_an_outbox_backlog_is_exported_while_its_relay_runs_and_ages_at_scrape_time() -> None:
    name = f"unit-{uuid.uuid4().hex[:8]}"
    backlog = OutboxBacklog()
    backlog.record(3, datetime.now(UTC) - timedelta(seconds=30))
    watch_outbox(name, backlog)
    try:
        assert sample("junction_outbox_pending", outbox=name) == 3
        assert 30 <= sample("junction_outbox_oldest_age_seconds", outbox=name) < 60
        backlog.record(0, None)
        assert sample("junction_outbox_pending", outbox=name) == 0
        assert sample("junction_outbox_oldest_age_seconds", outbox=name) == 0
    finally:
        unwatch_outbox(name, backlog)
    assert REGISTRY.get_sample_value("junction_outbox_pending", {"outbox": name}) is None


def test_a_staged_time_without_a_zone_is_utc() -> None:
    """SQLite gives the SQL outbox's `created_at` back without its zone."""
    backlog, aware = OutboxBacklog(), datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    backlog.record(1, aware.replace(tzinfo=None))
    assert backlog.seen == (1, aware.timestamp())


@pytest.mark.anyio
async def test_the_state_outbox_backlog_holds_what_is_staged_until_it_is_published() -> None:
    sidecar = FakeSidecar()
    outbox = StateOutbox(sidecar, shards=4)
    first, second, third = new_event({"n": 1}), new_event({"n": 2}), new_event({"n": 3})
    await outbox.commit([StateOp("thing:1", {"n": 1})], [("thing.happened", first), ("thing.happened", second)])
    await outbox.commit([StateOp("thing:2", {"n": 2})], [("thing.happened", third)])
    assert seen(outbox) == (3, first.occurred_at.timestamp())
    sidecar.broker_down = True
    with pytest.raises(DependencyUnavailable):
        await outbox.publish_pending()
    assert seen(outbox) == (3, first.occurred_at.timestamp())
    sidecar.broker_down = False
    assert await outbox.publish_pending() == 3
    assert seen(outbox) == (0, None)


@pytest.mark.anyio
async def test_the_state_outbox_backlog_counts_what_an_earlier_process_left_once_a_pass_reads_it() -> None:
    sidecar = FakeSidecar()
    left = new_event({"n": 1})
    await sidecar.save_state("outbox:1", {"pending": [{"topic": "thing.happened", "event": dump(left)}]})
    outbox = StateOutbox(sidecar, shards=4)
    sidecar.broker_down = True
    with pytest.raises(DependencyUnavailable):
        await outbox.publish_pending()
    assert seen(outbox) == (1, left.occurred_at.timestamp())


@pytest.mark.anyio
async def test_each_delivery_counts_by_what_became_of_it_and_a_repeat_as_a_duplicate() -> None:
    topic = f"metered.{uuid.uuid4().hex[:8]}"
    consumer: Consumer[set[str]] = Consumer("metered")

    @consumer.on(topic)
    async def apply(event: EventEnvelope, applied: set[str]) -> bool:
        if event.payload.get("fail"):
            raise (
                ValidationFailed("Not a thing.")
                if event.payload["fail"] == "refuse"
                else DependencyUnavailable("Down.")
            )
        first = event.event_id not in applied
        applied.add(event.event_id)
        return first

    def outcomes() -> dict[str, float]:
        return {o: sample("junction_event_deliveries_total", topic=topic, outcome=o) for o in OUTCOMES}

    event, applied = new_event({"n": 1}), set[str]()
    delivered = [
        await consumer.deliver(topic, {"id": event.event_id, "data": dump(event)}, applied),
        await consumer.deliver(topic, {"id": event.event_id, "data": dump(event)}, applied),
        await consumer.deliver(topic, {"id": "x", "data": {"not": "an envelope"}}, applied),
        await consumer.deliver(topic, {"id": "y", "data": dump(new_event({"fail": "refuse"}))}, applied),
        await consumer.deliver(topic, {"id": "z", "data": dump(new_event({"fail": "later"}))}, applied),
    ]
    assert delivered == [Delivery.SUCCESS, Delivery.SUCCESS, Delivery.DROP, Delivery.DROP, Delivery.RETRY]
    assert outcomes() == {"applied": 1, "duplicate": 1, "dropped": 2, "retry": 1}


def test_a_refusal_by_the_peers_open_breaker_is_counted_for_that_peer() -> None:
    peer = f"peer-{uuid.uuid4().hex[:8]}"
    refused = {
        "errorCode": "ERR_DIRECT_INVOKE",
        "message": f"failed to invoke, id: {peer}, err: circuit breaker is open",
    }
    half_open = {**refused, "message": f"failed to invoke, id: {peer}, err: too many requests"}
    for body in (refused, half_open):
        with pytest.raises(ServiceUnavailable):
            unwrap_envelope(httpx.Response(500, json=body), peer)
    assert sample("junction_breaker_refusals_total", peer=peer) == 2


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, json={"errorCode": "ERR_DIRECT_INVOKE", "message": "failed to invoke: connection refused"}),
        httpx.Response(503, text="upstream connect error"),
    ],
)
def test_other_failures_of_a_call_are_no_breaker_refusals(response: httpx.Response) -> None:
    peer = f"peer-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ServiceUnavailable):
        unwrap_envelope(response, peer)
    assert sample("junction_breaker_refusals_total", peer=peer) == 0
