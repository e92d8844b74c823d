"""A multi-host simulation on one machine: each app with its sidecar in a network namespace of its own,
the servers in another, all on one bridge (tools/netns/simulation.py; docs/scaling.md)."""

from tools.netns.enter import run_in, same_namespace
from tools.netns.names import DEFAULT_SUBNET, SUBNET_SETTING
from tools.netns.simulation import NetnsUnavailable, Simulation, SubnetInUse, sweep_stale

__all__ = [
    "DEFAULT_SUBNET",
    "SUBNET_SETTING",
    "NetnsUnavailable",
    "Simulation",
    "SubnetInUse",
    "run_in",
    "same_namespace",
    "sweep_stale",
]
