"""Hosts on one machine: a network namespace per app instance and one for the servers, on one bridge.

Each namespace has its loopback and one veth into the run's bridge, with an address of the run's subnet
(JUNCTION_NETNS_SUBNET, 10.231.0.0/24 unless set): the bridge takes the first address (this machine's
side, where the test process calls from), then each namespace the next one as it is first asked for —
the servers' first. A `Simulation` is the Stack's network (tools/stack/network.py): the servers listen on
their namespace's address, each sidecar listens for other sidecars on its own and registers it in name
resolution, and each app still calls its sidecar on its namespace's 127.0.0.1.

Bounded: `close()` removes every namespace, veth and the bridge of the run (in `finally`), and `open()`
first sweeps what runs of crashed processes left (`sweep_stale`). Processes are never killed here: the
Stack stops what it started before the namespaces go, and the sweep names (in a warning) the processes a
run killed outright left in its namespaces, for whoever started them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import os
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from tools.netns.enter import run_in
from tools.netns.ip import IpError, ip, links, namespaces, networks_in_use, require_ip
from tools.netns.names import SERVERS, SUBNET_SETTING, AddressPlan, RunNames, owner_pid, subnet_from

T = TypeVar("T")
log = logging.getLogger("tools.netns")
_sequence = itertools.count()


class NetnsUnavailable(RuntimeError):
    """This machine will not let the process make network namespaces (no CAP_NET_ADMIN, no `ip`): the reason."""


class SubnetInUse(RuntimeError):
    """The simulation's subnet overlaps a network this machine already has an address in or a route to."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Delete the namespaces and links that simulations of processes no longer running left; return their names.

    Only names of the project's shape (tools/netns/names.py) whose owning process is gone: another live
    run's are kept, and anything without the prefix is never looked at.
    """
    swept: list[str] = []
    for name in namespaces():
        pid = owner_pid(name)
        if pid is not None and not _alive(pid):
            inside = ip("netns", "pids", name).split()
            if inside:  # a run killed outright leaves its processes; they are not this run's to stop
                log.warning("stale namespace %s still holds processes %s: stop them by pid", name, " ".join(inside))
            ip("netns", "delete", name)
            swept.append(name)
    for name in links():  # bridges, and veth ends whose namespace went first
        pid = owner_pid(name)
        if pid is not None and not _alive(pid):
            with contextlib.suppress(IpError):  # deleting one end of a pair takes the other with it
                ip("link", "delete", name)
                swept.append(name)
    return swept


def _check_free(subnet: ipaddress.IPv4Network) -> None:
    for network, where in networks_in_use():
        if network.overlaps(subnet):
            raise SubnetInUse(f"{subnet} overlaps {where}: set {SUBNET_SETTING} to a free private range")


class Simulation:
    """One run's namespaces; use `Simulation.open()` as a context manager, or `close()` it in `finally`."""

    def __init__(self, names: RunNames, plan: AddressPlan) -> None:
        self.names = names
        self.plan = plan
        self.addresses: dict[str, ipaddress.IPv4Address] = {}
        """Role (`servers` or an app instance's name) -> its namespace's address, in creation order."""
        self._lock = threading.Lock()
        self._bridge_made = False

    @classmethod
    def open(cls, subnet: ipaddress.IPv4Network | None = None) -> Simulation:
        """Sweep stale runs, then make the bridge and the servers' namespace; NetnsUnavailable when not allowed."""
        try:
            require_ip()
        except (SystemExit, OSError) as exc:
            raise NetnsUnavailable(f"iproute2's `ip` is missing and could not be installed: {exc}") from exc
        subnet = subnet or subnet_from(os.environ.get(SUBNET_SETTING))
        simulation = cls(RunNames.of(os.getpid(), next(_sequence)), AddressPlan(subnet))
        try:
            sweep_stale()
            _check_free(subnet)
            simulation._make_bridge()
            simulation.host(SERVERS)
        except IpError as exc:
            simulation.close()
            if exc.denied:
                raise NetnsUnavailable(str(exc)) from exc
            raise
        except BaseException:
            simulation.close()
            raise
        return simulation

    def __enter__(self) -> Simulation:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # ---- the Stack's network (tools/stack/network.py) -----------------------------------------
    @property
    def server_host(self) -> str:
        return self.host(SERVERS)

    def host(self, name: str) -> str:
        """The address of `name`'s namespace, made when first asked for."""
        with self._lock:
            if name not in self.addresses:
                self._add(name)
            return str(self.addresses[name])

    def within(self, name: str | None, call: Callable[[], T]) -> T:
        role = name or SERVERS
        self.host(role)
        return run_in(self.names.namespace(role), call)

    def namespace(self, name: str | None) -> str:
        """The name of `name`'s namespace (None: the servers'), as `ip netns` lists it."""
        return self.names.namespace(name or SERVERS)

    # ---- making and removing ------------------------------------------------------------------
    def _make_bridge(self) -> None:
        bridge = self.names.bridge
        ip("link", "add", bridge, "type", "bridge")
        self._bridge_made = True
        ip("addr", "add", self.plan.with_prefix(self.plan.bridge), "dev", bridge)
        ip("link", "set", bridge, "up")

    def _add(self, role: str) -> None:
        namespace = self.names.namespace(role)
        address = self.plan.take(role)
        outside, inside = self.names.veth(len(self.addresses))
        ip("netns", "add", namespace)
        self.addresses[role] = address  # from here on, close() removes it
        ip("link", "set", "lo", "up", namespace=namespace)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", namespace)
        ip("link", "set", inside, "name", "eth0", namespace=namespace)
        ip("addr", "add", self.plan.with_prefix(address), "dev", "eth0", namespace=namespace)
        ip("link", "set", "eth0", "up", namespace=namespace)
        ip("link", "set", outside, "master", self.names.bridge)
        ip("link", "set", outside, "up")

    def leftovers(self) -> list[str]:
        """The run's namespaces and links that still exist (none once `close()` has run)."""
        ours = f"{self.names.tag}-"
        return [name for name in (*namespaces(), *links()) if name.startswith(ours)]

    def close(self) -> None:
        """Remove every namespace, veth and the bridge of this run; raise if any of them stays."""
        with self._lock:
            for role in list(self.addresses):
                with contextlib.suppress(IpError):  # one that was never fully made
                    ip("netns", "delete", self.names.namespace(role))
            for index in range(len(self.addresses)):
                outside = self.names.veth(index)[0]
                if outside in links():  # gone with its peer's namespace unless a process still holds that
                    with contextlib.suppress(IpError):
                        ip("link", "delete", outside)
            if self._bridge_made:
                with contextlib.suppress(IpError):
                    ip("link", "delete", self.names.bridge)
            self.addresses.clear()
            self._bridge_made = False
        left = self.leftovers()
        if left:
            raise RuntimeError(f"the simulation {self.names.tag} could not remove {', '.join(left)}")
