"""Where a stack's processes run and the addresses they reach each other on: the Stack's network hook.

`Loopback` (the default) is one machine: everything on 127.0.0.1, as `make run` has it. The multi-host
simulation (tools/netns) puts each app instance with its sidecar, and the servers, in network namespaces
of their own. Inside its own network an app still calls its sidecar on 127.0.0.1 (the sidecar pattern), so
an `AppProcess`'s `app_url`, `sidecar_url` and `metrics_url` are as seen from there: reach them `within`
its network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from tools.servers.processes import LOOPBACK

T = TypeVar("T")


class Network(Protocol):
    @property
    def server_host(self) -> str:
        """The servers' address (redis, jaeger, sentry, placement, scheduler): components, settings and sidecar
        flags name it instead of 127.0.0.1."""
        ...

    def host(self, name: str) -> str:
        """The address other sidecars reach instance `name`'s sidecar on: its internal gRPC server listens
        there and it registers it in name resolution (DAPR_HOST_IP)."""
        ...

    def within(self, name: str | None, call: Callable[[], T]) -> T:
        """Run `call` in instance `name`'s network (None: the servers'): what it starts runs there, what it
        connects to is looked up there."""
        ...


class Loopback:
    """One machine's loopback: every process beside every other, every address 127.0.0.1."""

    server_host = LOOPBACK

    def host(self, name: str) -> str:
        return LOOPBACK

    def within(self, name: str | None, call: Callable[[], T]) -> T:
        return call()
