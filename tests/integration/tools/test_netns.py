"""The multi-host simulation's namespaces for real (tools/netns): reachability, isolation, clean-up, the sweep.

Skipped, with the reason `ip` gave, on a machine that does not let this process make network namespaces.
"""

from __future__ import annotations

import ipaddress
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tools.netns import NetnsUnavailable, Simulation, SubnetInUse, run_in, same_namespace, sweep_stale
from tools.netns.ip import ip, links, namespaces
from tools.netns.names import RunNames


def _subnet() -> ipaddress.IPv4Network:
    """A /28 of the project's range of its own, clear of the end-to-end simulation's default 10.231.0.0/24."""
    return ipaddress.IPv4Network(f"10.231.{random.randrange(128, 256)}.{16 * random.randrange(16)}/28")


@pytest.fixture
def simulation() -> Iterator[Simulation]:
    try:
        opened = Simulation.open(_subnet())
    except NetnsUnavailable as exc:
        pytest.skip(f"this machine makes no network namespaces here: {exc}")
    with opened:
        yield opened


def _listen(host: str) -> socket.socket:
    server = socket.socket()
    server.bind((host, 0))
    server.listen()
    return server


def _connects(host: str, port: int) -> bool:
    with socket.socket() as client:
        client.settimeout(2)
        return client.connect_ex((host, port)) == 0


def test_hosts_reach_each_other_by_address_and_not_on_loopback(simulation: Simulation) -> None:
    server_host, app_host = simulation.server_host, simulation.host("orders")
    assert server_host != app_host and not ipaddress.IPv4Address(app_host).is_loopback
    server = simulation.within(None, lambda: _listen(server_host))
    try:
        port = server.getsockname()[1]
        assert simulation.within("orders", lambda: _connects(server_host, port))
        assert not simulation.within("orders", lambda: _connects("127.0.0.1", port)), "loopback is per host"
        assert _connects(server_host, port), "this machine reaches every host through the bridge"
    finally:
        server.close()


def test_a_process_started_within_a_host_runs_in_its_namespace(simulation: Simulation) -> None:
    process = simulation.within("catalog", lambda: subprocess.Popen([sys.executable, "-c", "input()"], stdin=-1))
    try:
        assert same_namespace(process.pid, simulation.namespace("catalog"))
        assert not same_namespace(process.pid, simulation.namespace(None))
    finally:
        process.communicate(b"\n", timeout=10)


def test_close_removes_everything_even_after_a_failure() -> None:
    try:
        opened = Simulation.open(_subnet())
    except NetnsUnavailable as exc:
        pytest.skip(f"this machine makes no network namespaces here: {exc}")
    tag = opened.names.tag
    with pytest.raises(ZeroDivisionError), opened:
        opened.host("gateway")
        assert {opened.namespace(None), opened.namespace("gateway"), opened.names.bridge} <= {
            *namespaces(),
            *links(),
        }
        _ = 1 / 0
    assert [name for name in (*namespaces(), *links()) if name.startswith(tag)] == []


def test_a_subnet_in_use_is_refused_and_leaves_nothing(simulation: Simulation) -> None:
    before = {*namespaces(), *links()}
    with pytest.raises(SubnetInUse, match="JUNCTION_NETNS_SUBNET"):
        Simulation.open(simulation.plan.subnet)
    assert {*namespaces(), *links()} == before


def test_the_sweep_removes_only_what_dead_runs_of_ours_left() -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead, live = RunNames.of(finished.pid, 0), RunNames.of(os.getpid(), 19)
    foreign = f"other-{random.randrange(10**6)}"
    made: list[tuple[str, ...]] = []
    try:
        for name in (dead.namespace("orders"), live.namespace("orders"), foreign):
            ip("netns", "add", name)
            made.append(("netns", "delete", name))
        for name in (dead.bridge, live.bridge):
            ip("link", "add", name, "type", "bridge")
            made.append(("link", "delete", name))
    except Exception as exc:
        for command in made:
            ip(*command)
        pytest.skip(f"this machine makes no network namespaces here: {exc}")
    try:
        swept = sweep_stale()
        assert {dead.namespace("orders"), dead.bridge} <= set(swept)
        assert live.namespace("orders") in namespaces() and foreign in namespaces() and live.bridge in links()
        assert dead.namespace("orders") not in namespaces() and dead.bridge not in links()
    finally:
        for command in made:
            if command[-1] in (*namespaces(), *links()):
                ip(*command)


def test_code_on_a_host_thread_leaves_the_caller_where_it_was(simulation: Simulation) -> None:
    own = os.stat("/proc/thread-self/ns/net").st_ino
    simulation.host("admin")
    inside = run_in(simulation.namespace("admin"), lambda: os.stat("/proc/thread-self/ns/net").st_ino)
    assert inside != own and os.stat("/proc/thread-self/ns/net").st_ino == own
