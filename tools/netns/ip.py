"""iproute2's `ip`, the one tool the simulation changes the machine's network with, and what it reports."""

from __future__ import annotations

import ipaddress
import subprocess

from tools.servers.processes import apt_install

_DENIED = ("Operation not permitted", "Permission denied")
_ROUTE_TYPES = ("unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat")


class IpError(RuntimeError):
    """An `ip` command failed; the message is the command and what it said."""

    @property
    def denied(self) -> bool:
        """Whether it failed for want of privilege (no CAP_NET_ADMIN / CAP_SYS_ADMIN), not for a mistake."""
        return any(reason in str(self) for reason in _DENIED)


def require_ip() -> str:
    """The `ip` binary, installed from Debian's iproute2 when it is missing."""
    return apt_install("iproute2", "ip")


def ip(*arguments: str, namespace: str | None = None) -> str:
    """Run `ip [-n namespace] arguments...`; return what it printed."""
    command = ["ip", *(("-n", namespace) if namespace else ()), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise IpError(f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def namespaces() -> list[str]:
    """The named network namespaces (`ip netns list`: `name` or `name (id: 3)` per line)."""
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def links() -> list[str]:
    """The names of this namespace's interfaces (`12: name@peer: <...>` per line of `ip -o link show`)."""
    return [line.split(":")[1].strip().split("@")[0] for line in ip("-o", "link", "show").splitlines() if ":" in line]


def networks_in_use() -> list[tuple[ipaddress.IPv4Network, str]]:
    """Every IPv4 network this machine has an address in or a route to, with where it was seen."""
    found: list[tuple[ipaddress.IPv4Network, str]] = []
    for line in ip("-o", "-4", "addr", "show").splitlines():  # "2: eth0    inet 192.0.2.2/24 brd ... "
        fields = line.split()
        if "inet" in fields:
            address = fields[fields.index("inet") + 1]
            found.append((ipaddress.IPv4Interface(address).network, f"address {address} on {fields[1]}"))
    for line in ip("-4", "route", "show").splitlines():  # "10.0.0.0/8 via ... dev eth1", "blackhole 10.9.0.0/16"
        fields = line.split()
        if fields and fields[0] in _ROUTE_TYPES:
            fields = fields[1:]
        if fields and fields[0] != "default":
            try:
                found.append((ipaddress.IPv4Network(fields[0], strict=False), f"route {line.strip()}"))
            except ValueError:
                continue
    return found
