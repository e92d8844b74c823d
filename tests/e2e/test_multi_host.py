"""A multi-host simulation: every app and its sidecar on a host of its own, the servers on another (tools/netns).

Each host is a network namespace with one veth into a bridge and an address of the run's subnet
(JUNCTION_NETNS_SUBNET, 10.231.0.0/24 unless set); this process calls from the bridge's address. The
servers (redis, jaeger, sentry, placement, scheduler) listen on their host's address and the rendered
components, configuration and settings name it; each sidecar listens for other sidecars on its host's
address and registers that address in the SQLite name-resolution table; each app calls its own sidecar on
its host's 127.0.0.1, and the gateway listens on every address of its host (PUBLIC_HOST=0.0.0.0, as in
docker compose and Kubernetes). The order and tenant journeys then pass through the gateway's address:
no code relies on a peer being on 127.0.0.1.

What stays shared, so is not shown here: one kernel and clock, and one file system (the name-resolution
table, the local secret stores and the SQLite files are files every host opens; docs/scaling.md).
CI runs it on the `local` profile only (JUNCTION_MULTI_HOST=1 runs it on another whose servers can listen
on an address other than 127.0.0.1); it is skipped, with the reason, where namespaces cannot be made.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import OWN_STACKS, RATE_LIMIT_TIERS, Account, sign_in_as_admin, wait_until
from tests.e2e.test_order_flow import Json, order_in, payments_of, place, stock_becomes
from tests.e2e.test_tenants import SCHOOL_TABLES, database_of, new_tenant
from tests.e2e.test_traces import ONE_ORDER
from tools.netns import NetnsUnavailable, Simulation, same_namespace
from tools.servers import load_profile
from tools.servers.processes import port_open
from tools.stack import Stack
from tools.stack.stack import new_run_dir
from tools.stack.stores import tables_in

pytestmark = pytest.mark.timeout(300)  # the first test boots the stack: 9 apps, 9 sidecars, 5 servers on 2 cores
PROFILE = os.environ.get("JUNCTION_PROFILE", "local")
CI_PROFILE = "local"
ANY_PROFILE = "JUNCTION_MULTI_HOST"
"""Set to 1 to run the simulation on a profile other than `local` (CI runs it once, on `local`)."""


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[Stack, Simulation]]:
    if PROFILE != CI_PROFILE and os.environ.get(ANY_PROFILE) != "1":
        pytest.skip(
            f"the multi-host simulation runs on the {CI_PROFILE} profile ({ANY_PROFILE}=1 runs it on {PROFILE})"
        )
    loopback_only = sorted(name for name, kind in load_profile(PROFILE).kinds().items() if kind.start_on is None)
    if loopback_only:
        pytest.skip(f"profile {PROFILE}: servers that listen on 127.0.0.1 only: {', '.join(loopback_only)}")
    try:
        simulation = Simulation.open()
    except NetnsUnavailable as exc:
        pytest.skip(f"this machine makes no network namespaces for this process: {exc}")
    try:
        stack = Stack(
            new_run_dir("test-runs", "multi-host"),
            network=simulation,
            rate_limit_tiers=RATE_LIMIT_TIERS,
            app_env={"gateway": {"PUBLIC_HOST": "0.0.0.0"}},  # every address of the gateway's own host
        )
        OWN_STACKS.append(stack)
        try:
            stack.start()
            yield stack, simulation
        finally:
            OWN_STACKS.remove(stack)
            stack.stop()
    finally:
        simulation.close()


@pytest.fixture(scope="module")
def platform(hosts: tuple[Stack, Simulation]) -> Stack:
    """This file's own stack, spread over the simulated hosts."""
    return hosts[0]


@pytest.fixture(scope="module")
def simulation(hosts: tuple[Stack, Simulation]) -> Simulation:
    return hosts[1]


@pytest.fixture(scope="module")
def edge(platform: Stack, simulation: Simulation) -> Iterator[httpx.Client]:
    """The gateway at its host's address, from this machine (no proxy from the environment in between)."""
    url = f"http://{simulation.host('gateway')}:{platform.apps['gateway'].app_port}/api/v1"
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def admin(edge: httpx.Client) -> dict[str, str]:
    return sign_in_as_admin(edge)


def test_every_app_and_its_sidecar_run_on_a_host_of_their_own(platform: Stack, simulation: Simulation) -> None:
    addresses = {name: simulation.host(name) for name in platform.apps}
    assert len(set(addresses.values())) == len(addresses) and simulation.server_host not in addresses.values()
    for name, app in platform.apps.items():
        for managed in (app.app, app.sidecar):
            assert managed is not None and managed.process is not None
            assert same_namespace(managed.process.pid, simulation.namespace(name)), managed.name
    servers = [
        *platform.server_processes.values(),
        platform.sentry,
        platform.placement,
        platform.scheduler,
        platform.janitor,
    ]
    for managed in servers:
        assert managed is not None and managed.process is not None
        assert same_namespace(managed.process.pid, simulation.namespace(None)), managed.name
    # Nothing of the platform listens on this machine's own loopback: each host has a loopback of its own.
    gateway, redis = platform.apps["gateway"], platform.server_ports["redis"]
    assert not port_open(gateway.app_port) and not port_open(gateway.internal_grpc_port) and not port_open(redis)


def test_sidecars_register_their_hosts_addresses_in_name_resolution(platform: Stack, simulation: Simulation) -> None:
    with sqlite3.connect(platform.run_dir / "nameresolution.db") as table:
        rows = table.execute("SELECT app_id, address FROM hosts").fetchall()
    registered: dict[str, set[str]] = {}
    for app_id, address in rows:
        registered.setdefault(app_id, set()).add(address)
    expected: dict[str, set[str]] = {}
    for name, app in platform.apps.items():
        expected.setdefault(app.app_id, set()).add(f"{simulation.host(name)}:{app.internal_grpc_port}")
    assert registered == expected


def test_the_gateway_sees_every_service_up_on_its_host(
    platform: Stack, edge: httpx.Client, admin: dict[str, str]
) -> None:
    """Each service's readiness, asked now through the gateway's sidecar and the service's, on every host."""
    detailed = edge.get("/health/detailed", headers=admin)
    assert detailed.status_code == 200, detailed.text
    report = detailed.json()["data"]
    assert report["gateway"]["status"] == "ok"
    services = {name: service["status"] for name, service in report["services"].items()}
    assert services == {app_id: "ok" for app_id in platform.app_ids if app_id != "gateway"}


def test_an_order_reaches_confirmed_with_stock_and_payment_right(edge: httpx.Client, admin: dict[str, str]) -> None:
    email, password = f"hosts-{uuid.uuid4().hex[:12]}@example.com", "correct horse battery"
    registered = edge.post("/auth/register", json={"email": email, "password": password, "name": "Ada"})
    assert registered.status_code == 201, registered.text
    login = edge.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    customer = Account(email, password, login.json()["data"]["accessToken"], registered.json()["data"]["id"])
    sku = f"HOSTS-{uuid.uuid4().hex[:10]}"
    created = edge.post("/products", json={"sku": sku, "name": sku, "price": 12.5, "stock": 10}, headers=admin)
    assert created.status_code == 201, created.text
    product: Json = created.json()["data"]

    placed = place(edge, customer, product, 2)
    assert placed.status_code == 201, placed.text
    order = placed.json()["data"]
    assert order["status"] == "PENDING_PAYMENT" and order["total"] == 25.0

    confirmed = order_in(edge, customer, order["id"], "CONFIRMED", timeout=30)
    assert confirmed["paymentId"]
    stock_becomes(edge, product, 8)
    (payment,) = payments_of(edge, customer, order["id"])
    assert payment["status"] == "SUCCEEDED" and payment["amount"] == 25.0


def test_a_tenant_becomes_active_with_its_school_database(
    platform: Stack, edge: httpx.Client, admin: dict[str, str]
) -> None:
    created = edge.post("/tenants", json=new_tenant(), headers=admin)
    assert created.status_code == 201, created.text
    tenant = created.json()["data"]
    assert set(tenant["tablesCreated"]) == SCHOOL_TABLES

    fetched = wait_until(
        lambda: edge.get(f"/tenants/{tenant['id']}", headers=admin).json()["data"],
        lambda found: found["status"] == "ACTIVE",
        timeout=30,
        what=f"tenant {tenant['id']} ACTIVE",
    )
    assert fetched["subdomain"] == tenant["subdomain"]
    assert tables_in(database_of(platform, tenant["subdomain"])) >= SCHOOL_TABLES


def test_spans_reach_the_trace_backend_on_the_servers_host(platform: Stack) -> None:
    """Sidecars (`tracing.otel` in config/) and apps (OTEL_EXPORTER_OTLP_ENDPOINT) export to the servers' host."""
    with httpx.Client(base_url=platform.trace_query_url, timeout=5, trust_env=False) as jaeger:
        wait_until(
            lambda: set(jaeger.get("/api/services").json()["data"] or []),
            lambda services: services >= ONE_ORDER,
            timeout=30,
            what="every service of an order in Jaeger",
        )
