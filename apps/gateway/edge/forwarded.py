"""Who the client really is: the direct peer, or what a trusted proxy says in X-Forwarded-For.

Each proxy appends the address it was called from, so only the right-hand end of the header is
written by proxies we trust; everything to its left is whatever the client chose to send. Walking
from the right, the first address that is not one of our proxies is the client. A peer that is not
a trusted proxy is the client itself, whatever it forwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.types import Scope

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def _address(text: str) -> IPAddress | None:
    try:
        return ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _trusted(address: IPAddress | None, proxies: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[IPNetwork]) -> str | None:
    """Name the client: `peer` unless it is a trusted proxy, else the right-most untrusted forwarded address.

    A hop that is not an IP address ends the walk at the last proxy that wrote it: a key the
    client could choose is never used. When every hop is a proxy, the left-most one is the client.
    """
    if not _trusted(_address(peer or ""), proxies):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return client
        client = str(address)
        if not _trusted(address, proxies):
            return client
    return client


def scope_client_address(scope: Scope, proxies: Sequence[IPNetwork]) -> str | None:
    """`client_address` of an ASGI request: its peer and every X-Forwarded-For header, in order."""
    peer = scope.get("client")
    forwarded = (bytes(value).decode("latin-1") for key, value in scope.get("headers", []) if key == b"x-forwarded-for")
    return client_address(peer[0] if peer else None, forwarded, proxies)
