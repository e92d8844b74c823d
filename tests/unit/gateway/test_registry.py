"""The registry's rules: down on a second failure after a failed probe, up on one answer, the breaker as seen."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from apps.gateway.errors import ServiceDown
from apps.gateway.main import create_app
from apps.gateway.peers import Peers
from apps.gateway.registry import ServiceRegistry
from apps.gateway.registry.refresher import ROUTE_PREFIXES, refreshing, registry_for
from servicekit import JunctionError
from servicekit.errors import ServiceUnavailable
from servicekit.health import NotReady
from servicekit.sidecar_errors import BreakerOpen, SidecarUnreachable
from tests.unit.fakes import FakeSidecar
from tests.unit.gateway.helpers import APPS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INTERVAL = timedelta(seconds=2)

pytestmark = pytest.mark.anyio


def registry() -> ServiceRegistry:
    return ServiceRegistry({"catalog": ["/api/v1/products"], "orders": ["/api/v1/orders"]})


def test_a_service_is_up_until_two_probes_in_a_row_fail() -> None:
    services = registry()
    services.probe_succeeded("catalog", at=T0)
    services.probe_failed("catalog", at=T0 + INTERVAL, code="SERVICE_UNAVAILABLE")
    assert not services.is_down("catalog")  # one slow or failed probe refuses nothing
    services.probe_failed("catalog", at=T0 + 2 * INTERVAL, code="UPSTREAM_TIMEOUT")
    assert services.is_down("catalog") and not services.is_down("orders")
    record = next(r for r in services.records() if r.name == "catalog")
    assert (record.health, record.failures, record.last_error, record.last_seen) == (
        "unavailable",
        2,
        "UPSTREAM_TIMEOUT",
        T0,
    )


def test_a_service_that_answers_it_is_not_ready_stays_up_and_callable() -> None:
    services = registry()
    for step in range(3):  # an app whose database is down answers, NOT_READY
        services.probe_not_ready("catalog", at=T0 + step * INTERVAL, code="NOT_READY")
        services.call_failed("catalog", at=T0 + step * INTERVAL, code="DATABASE_UNAVAILABLE")
    assert not services.is_down("catalog")
    record = services.records()[0]
    assert (record.health, record.failures, record.last_error, record.last_seen) == (
        "unavailable",
        0,
        "NOT_READY",
        T0 + 2 * INTERVAL,
    )


def test_a_down_service_that_answers_again_not_ready_is_up() -> None:
    services = registry()
    _down(services)
    services.probe_not_ready("catalog", at=T0 + INTERVAL, code="NOT_READY")
    assert not services.is_down("catalog")


def test_a_service_that_answered_within_the_interval_is_not_marked_down() -> None:
    services = registry()  # answered_within: 2 s, the probes' interval
    services.call_succeeded("catalog", at=T0)  # one of two replicas still answers, or a probe merely ran late
    services.probe_failed("catalog", at=T0 + INTERVAL / 4, code="UPSTREAM_TIMEOUT")
    services.call_failed("catalog", at=T0 + INTERVAL / 2, code="SERVICE_UNAVAILABLE")
    assert not services.is_down("catalog")
    services.probe_failed("catalog", at=T0 + INTERVAL, code="UPSTREAM_TIMEOUT")  # nothing answered for 2 s
    assert services.is_down("catalog")


def test_failed_calls_alone_never_mark_a_service_down() -> None:
    services = registry()
    for _ in range(5):
        services.call_failed("catalog", at=T0, code="UPSTREAM_TIMEOUT")
    assert not services.is_down("catalog")


def test_a_failed_probe_then_a_failed_call_marks_it_down() -> None:
    services = registry()
    services.probe_failed("catalog", at=T0, code="SERVICE_UNAVAILABLE")
    services.call_failed("catalog", at=T0 + INTERVAL / 2, code="SERVICE_UNAVAILABLE")
    assert services.is_down("catalog")


def test_one_answer_brings_a_service_back_up() -> None:
    services = registry()
    services.probe_failed("catalog", at=T0, code="SERVICE_UNAVAILABLE")
    services.probe_failed("catalog", at=T0 + INTERVAL, code="SERVICE_UNAVAILABLE")
    services.probe_succeeded("catalog", at=T0 + 2 * INTERVAL)
    assert not services.is_down("catalog")
    record = services.records()[0]
    assert (record.state, record.health, record.failures, record.last_seen) == ("up", "ok", 0, T0 + 2 * INTERVAL)
    services.probe_failed("catalog", at=T0 + 3 * INTERVAL, code="SERVICE_UNAVAILABLE")
    assert not services.is_down("catalog")  # the count started again


def test_the_breaker_opens_when_the_sidecar_refuses_and_closes_on_the_next_answer() -> None:
    services = registry()
    services.call_failed("catalog", at=T0, code="SERVICE_UNAVAILABLE", breaker_open=True)
    record = services.records()[0]
    assert (record.breaker, record.breaker_changed, record.state) == ("open", T0, "up")
    services.call_succeeded("catalog", at=T0 + INTERVAL)
    assert (record.breaker, record.breaker_changed) == ("closed", T0 + INTERVAL)


def test_a_service_the_registry_does_not_know_is_never_refused() -> None:
    services = registry()
    services.call_failed("provisioner", at=T0, code="SERVICE_UNAVAILABLE")
    assert not services.is_down("provisioner")


def test_every_service_the_gateway_routes_to_is_registered_with_its_prefixes() -> None:
    services = registry_for(APPS)
    assert set(services.names) == {getattr(APPS, role) for role in ROUTE_PREFIXES}
    routes = {getattr(route, "path", "") for route in create_app().routes}
    public = {path for path in routes if path.startswith("/api/v1/")}
    own = ("/api/v1/health", "/api/v1/gateway/", "/api/v1/admin/dashboard")
    prefixes = [prefix for record in services.records() for prefix in record.prefixes]
    assert {p for p in public if not p.startswith(own) and not p.startswith(tuple(prefixes))} == set()


def _answering(answer: Exception | None) -> FakeSidecar:
    sidecar = FakeSidecar()

    async def catalog(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        if answer is not None:
            raise answer
        return {"status": "ready"}

    sidecar.apps["catalog"] = catalog
    return sidecar


@pytest.mark.parametrize(
    ("answer", "health", "breaker"),
    [
        (None, "ok", "closed"),
        (ServiceUnavailable("gone"), "unavailable", "closed"),
        (NotReady("Not ready."), "unavailable", "closed"),
        (BreakerOpen("refused"), "unavailable", "open"),
        (SidecarUnreachable("our own sidecar"), "unknown", "closed"),
    ],
)
async def test_a_probe_records_what_the_readiness_call_met(answer: Exception | None, health: str, breaker: str) -> None:
    services = registry()
    peers = Peers(_answering(answer), APPS, (), registry=services)
    await peers.probe("catalog")
    record = services.records()[0]
    assert (record.health, record.breaker) == (health, breaker)


async def test_probes_answered_not_ready_never_mark_a_service_down() -> None:
    services = registry()
    sidecar = _answering(NotReady("Not ready."))
    peers = Peers(sidecar, APPS, (), registry=services)
    for _ in range(3):
        await peers.probe("catalog")
    assert not services.is_down("catalog")
    with pytest.raises(JunctionError) as failed:  # its own answer, not the gateway's refusal
        await peers.call("catalog", "GET", "/products")
    assert not isinstance(failed.value, ServiceDown)
    assert [path for _, _, path, _ in sidecar.invocations][-1] == "/products"


async def test_a_probe_that_outlasts_its_timeout_is_a_failure() -> None:
    sidecar = FakeSidecar()

    async def hung(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        await anyio.sleep(10)

    sidecar.apps["catalog"] = hung
    services = registry()
    await Peers(sidecar, APPS, (), registry=services, probe_timeout_seconds=0.05).probe("catalog")
    assert services.records()[0].last_error == "UPSTREAM_TIMEOUT"


async def test_the_refresher_marks_a_dead_service_down_within_two_intervals_and_stops_cleanly() -> None:
    services = registry()
    sidecar = _answering(ServiceUnavailable("gone"))
    peers = Peers(sidecar, APPS, (), registry=services, probe_timeout_seconds=0.05)
    async with refreshing(peers, services, interval_seconds=0.05):
        await anyio.sleep(0.3)  # two intervals (0.1 s) and a probe's timeout, with room for a slow machine
        assert services.is_down("catalog")
    probes = len(sidecar.invocations)
    await anyio.sleep(0.15)
    assert len(sidecar.invocations) == probes  # cancelled on the way out


def _down(services: ServiceRegistry, name: str = "catalog", *, at: datetime = T0) -> None:
    for _ in range(2):
        services.probe_failed(name, at=at, code="SERVICE_UNAVAILABLE")


async def test_a_call_to_a_service_marked_down_that_is_back_goes_through_as_a_trial() -> None:
    services = registry()
    _down(services)
    sidecar = _answering(None)  # catalog restarted and answers again; no probe has seen it yet
    peers = Peers(sidecar, APPS, (), registry=services)
    await peers.call("catalog", "GET", "/products")
    assert not services.is_down("catalog")
    assert [path for _, _, path, _ in sidecar.invocations] == ["/products"]


async def test_calls_to_a_service_still_down_are_refused_but_one_trial_per_spacing() -> None:
    services = registry()
    _down(services)
    sidecar = _answering(ServiceUnavailable("still gone"))
    peers = Peers(sidecar, APPS, (), registry=services)
    outcomes = await asyncio.gather(
        *(peers.call("catalog", "GET", "/products") for _ in range(5)), return_exceptions=True
    )
    refused = [outcome for outcome in outcomes if isinstance(outcome, ServiceDown)]
    assert len(refused) == 4  # the fifth was the trial: it met the peer's own failure
    assert [path for _, _, path, _ in sidecar.invocations] == ["/products"]
    assert services.is_down("catalog")


def test_a_trial_is_given_once_per_spacing() -> None:
    services = registry()
    assert services.take_trial("catalog", 1.0, now=T0)
    assert not services.take_trial("catalog", 1.0, now=T0 + timedelta(seconds=0.5))
    assert services.take_trial("catalog", 1.0, now=T0 + timedelta(seconds=1))
    assert services.take_trial("unknown", 1.0, now=T0)  # a service it does not know is never refused
