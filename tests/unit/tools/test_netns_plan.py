"""The multi-host simulation without root: its names and addresses, and how the Stack renders another network."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tools.netns.names import DEFAULT_SUBNET, IFNAMSIZ, AddressPlan, RunNames, owner_pid, subnet_from
from tools.servers.kinds import KINDS
from tools.stack.stack import Stack

T = TypeVar("T")


def test_names_carry_the_project_prefix_and_their_owner() -> None:
    names = RunNames.of(0x400000, 19)  # the largest pid Linux hands out, the last simulation of a process
    assert names.tag == "jnc400000z"
    assert len(names.veth(999)[0]) <= IFNAMSIZ and len(names.bridge) <= IFNAMSIZ
    for name in (names.bridge, names.namespace("orders.2"), *names.veth(3)):
        assert name.startswith("jnc400000z-") and owner_pid(name) == 0x400000
    with pytest.raises(ValueError, match="15 characters"):
        names.veth(1000)


@pytest.mark.parametrize("name", ["jnc-servers", "jncbr", "junction-orders", "jnc12a-x", "eth0", "xjnc12g-br"])
def test_names_not_of_our_shape_have_no_owner(name: str) -> None:
    assert owner_pid(name) is None


def test_a_role_cannot_escape_the_namespace_folder() -> None:
    for role in ("", ".", "..", "a/b"):
        with pytest.raises(ValueError, match="not a namespace role"):
            RunNames.of(42, 0).namespace(role)


def test_the_subnet_setting_is_checked() -> None:
    assert subnet_from(None) == ipaddress.IPv4Network(DEFAULT_SUBNET)
    assert subnet_from("10.77.3.0/28") == ipaddress.IPv4Network("10.77.3.0/28")
    for bad, reason in [
        ("10.231.0.1/24", "not a network"),
        ("10.231.0.0/29", "16 addresses"),
        ("fd00::/64", "IPv4"),
        ("8.8.0.0/16", "private"),
        ("127.0.0.0/24", "loopback"),
    ]:
        with pytest.raises(ValueError, match=reason):
            subnet_from(bad)


def test_addresses_are_handed_out_in_order_until_none_is_left() -> None:
    plan = AddressPlan(ipaddress.IPv4Network("10.231.7.0/28"))
    assert str(plan.bridge) == "10.231.7.1" and plan.with_prefix(plan.bridge) == "10.231.7.1/28"
    taken = [str(plan.take(f"host-{n}")) for n in range(13)]
    assert taken[0] == "10.231.7.2" and taken[-1] == "10.231.7.14"
    with pytest.raises(ValueError, match="no address left for one more"):
        plan.take("one more")


class TwoHosts:
    """A network of the Stack's shape that starts nothing: the servers on one address, every app on another."""

    server_host = "10.231.9.2"

    def host(self, name: str) -> str:
        return "10.231.9.3"

    def within(self, name: str | None, call: Callable[[], T]) -> T:
        return call()


def _flag(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_stack_points_sidecars_and_components_at_the_hosts_it_is_given(tmp_path: Path) -> None:
    stack = Stack(tmp_path, profile="local", network=TwoHosts())
    admin = stack._daprd(stack.apps["admin"])
    assert _flag(admin, "--dapr-internal-grpc-listen-address") == "10.231.9.3"
    for flag, port in [
        ("--sentry-address", stack.sentry_port),
        ("--placement-host-address", stack.placement_port),
        ("--scheduler-host-address", stack.scheduler_port),
    ]:
        assert _flag(admin, flag) == f"10.231.9.2:{port}"
    assert _flag(admin, "--dapr-listen-addresses") == "127.0.0.1", "an app still calls its own sidecar on loopback"
    redis = stack.server_ports["redis"]
    assert stack._this_run('redisHost: "127.0.0.1:6379"') == f'redisHost: "10.231.9.2:{redis}"'
    assert stack.trace_query_url == f"http://10.231.9.2:{stack.server_ports['jaeger']}"


def test_one_machine_keeps_everything_on_loopback(tmp_path: Path) -> None:
    stack = Stack(tmp_path, profile="local")
    orders = stack._daprd(stack.apps["orders"])
    assert _flag(orders, "--dapr-internal-grpc-listen-address") == "127.0.0.1"
    assert _flag(orders, "--sentry-address") == f"127.0.0.1:{stack.sentry_port}"
    assert stack._this_run("127.0.0.1:6379") == f"127.0.0.1:{stack.server_ports['redis']}"


def test_servers_that_listen_on_loopback_only_are_refused_elsewhere(tmp_path: Path) -> None:
    assert {name for name, kind in KINDS.items() if kind.start_on is not None} == {"redis", "jaeger"}
    with pytest.raises(SystemExit, match=r"nats listens on 127\.0\.0\.1 only"):
        KINDS["nats"].launch(4222, tmp_path, tmp_path / "nats.log", "10.231.9.2")
