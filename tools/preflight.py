"""Check that every port a run file asks for is free on 127.0.0.1; name the holder of any that is not.

    python -m tools.preflight RUNFILE

The CLI's own message ("invalid configuration for GRPCPort. Port 50106 is not available") names
neither the port's owner nor a way out; this check runs first and says both.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import yaml

PORT_KEYS = ("appPort", "daprHTTPPort", "daprGRPCPort", "daprInternalGRPCPort", "metricsPort")
PORT_SETTINGS = ("METRICS_PORT",)
"""Ports an app opens itself, given in its `env:` (servicekit.metrics)."""
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def run_file_ports(run_file: Path) -> dict[int, str]:
    """Map each fixed port of the run file to `app-id key`."""
    spec = yaml.safe_load(run_file.read_text())
    ports: dict[int, str] = {}
    for app in spec.get("apps", []):
        for key in PORT_KEYS:
            if key in app:
                ports[int(app[key])] = f"{app['appID']} {key}"
        for key in PORT_SETTINGS:
            if key in (app.get("env") or {}):
                ports[int(app["env"][key])] = f"{app['appID']} {key}"
    return ports


def ephemeral_range() -> range:
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves bind
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _socket_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _open_files(pid: str) -> set[str]:
    """What a process's descriptors point at; a descriptor that closes meanwhile is skipped."""
    links: set[str] = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return links
    for fd in descriptors:
        try:
            links.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return links


def holder_of(port: int) -> str:
    """Describe the processes holding a socket on the port (pid and command line), as far as visible."""
    inodes = {inode for inode in _socket_inodes(port) if inode != "0"}
    holders: list[str] = []
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if wanted & _open_files(pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                command = "exited meanwhile"
            holders.append(f"pid {pid} ({command.strip()[:120]})")
    if holders:
        return ", ".join(holders)
    return "a connection closing down (TIME_WAIT)" if inodes or _socket_inodes(port) else "an unknown process"


def main(argv: list[str]) -> int:
    run_file = Path(argv[1] if len(argv) > 1 else "dapr.yaml")
    taken = {port: role for port, role in run_file_ports(run_file).items() if not is_free(port)}
    ephemeral = ephemeral_range()
    for port, role in run_file_ports(run_file).items():
        if port in ephemeral:
            print(
                f"[preflight] warning: {role} {port} lies in the ephemeral range "
                f"{ephemeral.start}-{ephemeral.stop - 1}; outgoing connections may hold it",
                file=sys.stderr,
            )
    for port, role in sorted(taken.items()):
        print(f"[preflight] port {port} ({role}) is taken by {holder_of(port)}", file=sys.stderr)
    if taken:
        print(
            "[preflight] stop that process (an earlier `make run`?) or change the port in "
            f"{run_file}, then start again",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
