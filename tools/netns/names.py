"""What one simulation calls its namespaces, links and addresses: pure, so it is checked without root.

Every name starts with the run's tag, `jnc<pid in hex><letter>`: the project prefix, the process that
made it and which of that process's simulations it is. A sweep at start removes only names of that
shape whose process is gone (`owner_pid`), never a live run's, never anything without the prefix.
Interface names fit Linux's 15 characters: `jnc400000z-h123` is the longest.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

PREFIX = "jnc"
SUBNET_SETTING = "JUNCTION_NETNS_SUBNET"
"""The environment variable naming the simulation's IPv4 network (a range of the project's own)."""
DEFAULT_SUBNET = "10.231.0.0/24"
SERVERS = "servers"
"""The role of the namespace the profile's servers and the control plane run in."""
IFNAMSIZ = 15
_SEQUENCE = "ghijklmnopqrstuvwxyz"  # not hex digits: the letter ends the pid
_OURS = re.compile(rf"^{PREFIX}(?P<pid>[0-9a-f]{{1,6}})[g-z]-")


@dataclass(frozen=True)
class RunNames:
    """The names of one simulation's bridge, namespaces and veth pairs."""

    tag: str

    @classmethod
    def of(cls, pid: int, sequence: int) -> RunNames:
        """The names of a process's `sequence`-th simulation (0 first)."""
        if not 0 < pid <= 0xFFFFFF or not 0 <= sequence < len(_SEQUENCE):
            raise ValueError(f"no names for pid {pid}, simulation {sequence}")
        return cls(f"{PREFIX}{pid:x}{_SEQUENCE[sequence]}")

    @property
    def bridge(self) -> str:
        return f"{self.tag}-br"

    def namespace(self, role: str) -> str:
        """A host's namespace: `servers`, or an app instance's name (`orders`, `orders.2`)."""
        if not role or "/" in role or role in (".", ".."):
            raise ValueError(f"not a namespace role: {role!r}")
        return f"{self.tag}-{role}"

    def veth(self, index: int) -> tuple[str, str]:
        """The `index`-th veth pair: the end left on the bridge, and the end moved into a namespace (then eth0)."""
        pair = (f"{self.tag}-h{index}", f"{self.tag}-n{index}")
        if len(pair[0]) > IFNAMSIZ:
            raise ValueError(f"veth {index} of {self.tag} would exceed {IFNAMSIZ} characters")
        return pair


def owner_pid(name: str) -> int | None:
    """The pid of the process whose simulation made `name`, or None for a name that is not ours."""
    match = _OURS.match(name)
    return int(match["pid"], 16) if match else None


def subnet_from(value: str | None) -> ipaddress.IPv4Network:
    """The simulation's network from its setting (unset: DEFAULT_SUBNET); refuses what cannot serve."""
    text = value or DEFAULT_SUBNET
    try:
        subnet = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{SUBNET_SETTING}={text!r} is not a network: {exc}") from exc
    if not isinstance(subnet, ipaddress.IPv4Network) or subnet.prefixlen > 28:
        raise ValueError(f"{SUBNET_SETTING}={text!r}: an IPv4 network of 16 addresses at least is needed")
    if subnet.is_loopback or not subnet.is_private:
        raise ValueError(f"{SUBNET_SETTING}={text!r}: a private range is needed, not loopback or public addresses")
    return subnet


class AddressPlan:
    """Addresses in the order they are asked for: the bridge (this machine's side) first, then each host's."""

    def __init__(self, subnet: ipaddress.IPv4Network) -> None:
        self.subnet = subnet
        self._free = subnet.hosts()
        self.bridge = self._next("the bridge")

    def _next(self, what: str) -> ipaddress.IPv4Address:
        try:
            return next(self._free)
        except StopIteration:
            raise ValueError(f"{self.subnet} has no address left for {what}") from None

    def take(self, role: str) -> ipaddress.IPv4Address:
        return self._next(role)

    def with_prefix(self, address: ipaddress.IPv4Address) -> str:
        """`address/prefixlen`, as `ip addr add` wants it."""
        return f"{address}/{self.subnet.prefixlen}"
