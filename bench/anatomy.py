"""What one order asks of each app and its sidecar: requests served, state reads and writes, publishes, calls.

Counted from the Prometheus counters the platform already exports, read before and after a phase: each
app's own (`junction_http_requests_total`, `junction_grpc_requests_total`, servicekit.metrics) and its
sidecar's (`dapr_grpc_io_server_completed_rpcs` by Dapr API method, the building-block calls an app makes
through the SDK; `dapr_runtime_service_invocation_req_sent_total`, the calls it makes to other apps, each
retry by the sidecar's resiliency policy counted again). Divided by the phase's CONFIRMED orders, and set
beside each process's CPU per order, they say what one operation costs, which is what stands between the
platform and a CPU budget per order. One instance per app id is counted (the benchmark runs one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tools.stack import Stack

SCRAPE_TIMEOUT_SECONDS = 5.0
DAPR_API = "/dapr.proto.runtime.v1.Dapr/"


class Operation(StrEnum):
    """What an app did, or had its sidecar do, for an order."""

    SERVED = "requests served"
    """HTTP and gRPC requests the app answered: event deliveries, calls from other apps, the public API."""
    STATE_READ = "state reads"
    STATE_WRITE = "state writes"
    PUBLISH = "publishes"
    CALL = "calls to other apps"
    FAILED = "sidecar calls failed"
    """Building-block calls answered with an error (an ETag conflict, say): each is retried or given up."""


STATE_READS = frozenset({"GetState", "GetBulkState", "QueryStateAlpha1"})
STATE_WRITES = frozenset({"SaveState", "ExecuteStateTransaction", "DeleteState", "DeleteBulkState"})
PUBLISHES = frozenset({"PublishEvent", "BulkPublishEvent", "BulkPublishEventAlpha1"})


@dataclass(frozen=True)
class Counts:
    """One app's operations so far, by kind, and its sidecar's building-block calls by Dapr API method."""

    operations: Mapping[Operation, float] = field(default_factory=dict)
    by_method: Mapping[str, float] = field(default_factory=dict)

    def minus(self, before: Counts) -> Counts:
        return Counts(
            {op: n - before.operations.get(op, 0.0) for op, n in self.operations.items()},
            {method: n - before.by_method.get(method, 0.0) for method, n in self.by_method.items()},
        )


def app_counts(text: str) -> float:
    """Requests an app has served so far, from its own metrics (servicekit.metrics)."""
    served = 0.0
    for family in text_string_to_metric_families(text):
        if family.name in ("junction_http_requests", "junction_grpc_requests"):
            served += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return served


def sidecar_counts(text: str) -> tuple[dict[Operation, float], dict[str, float]]:
    """A sidecar's building-block calls so far, by kind and by Dapr API method, from daprd's metrics."""
    operations: dict[Operation, float] = {}
    by_method: dict[str, float] = {}

    def add(operation: Operation, value: float) -> None:
        operations[operation] = operations.get(operation, 0.0) + value

    for family in text_string_to_metric_families(text):  # a counter's family drops `_total`, its samples end in it
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue  # `_created`, where an exporter adds it
            if family.name == "dapr_grpc_io_server_completed_rpcs":
                method = sample.labels.get("grpc_server_method", "")
                if not method.startswith(DAPR_API):
                    continue
                name = method.removeprefix(DAPR_API)
                by_method[name] = by_method.get(name, 0.0) + sample.value
                if sample.labels.get("grpc_server_status") != "OK":
                    add(Operation.FAILED, sample.value)
                for kind, methods in (
                    (Operation.STATE_READ, STATE_READS),
                    (Operation.STATE_WRITE, STATE_WRITES),
                    (Operation.PUBLISH, PUBLISHES),
                ):
                    if name in methods:
                        add(kind, sample.value)
            elif family.name == "dapr_runtime_service_invocation_req_sent":
                add(Operation.CALL, sample.value)
    return operations, by_method


async def scrape(stack: Stack) -> dict[str, Counts]:
    """Every app's counts now, read from its metrics and its sidecar's (one instance per app id)."""
    async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_SECONDS) as client:

        async def read(url: str) -> str:
            response = await client.get(url)
            response.raise_for_status()
            return response.text

        apps = list(stack.apps.values())
        texts = await asyncio.gather(
            *(read(app.metrics_url) for app in apps),
            *(read(f"http://127.0.0.1:{app.metrics_port}/metrics") for app in apps),
        )
    counts: dict[str, Counts] = {}
    for app, own, sidecar in zip(apps, texts[: len(apps)], texts[len(apps) :], strict=True):
        operations, by_method = sidecar_counts(sidecar)
        operations[Operation.SERVED] = app_counts(own)
        counts[app.app_id] = Counts(operations, by_method)
    return counts


@dataclass(frozen=True)
class Anatomy:
    """Each app's operations per CONFIRMED order in one phase."""

    per_order: Mapping[str, Mapping[Operation, float]]
    methods_per_order: Mapping[str, Mapping[str, float]]

    @classmethod
    def between(cls, before: Mapping[str, Counts], after: Mapping[str, Counts], orders: int) -> Anatomy:
        per_order: dict[str, dict[Operation, float]] = {}
        methods: dict[str, dict[str, float]] = {}
        for app_id, now in after.items():
            spent = now.minus(before.get(app_id, Counts()))
            per_order[app_id] = {op: n / orders for op, n in spent.operations.items()} if orders else {}
            methods[app_id] = {m: n / orders for m, n in spent.by_method.items() if n} if orders else {}
        return cls(per_order, methods)

    def total(self, operation: Operation, apps: Iterable[str] | None = None) -> float:
        chosen = self.per_order if apps is None else {a: self.per_order.get(a, {}) for a in apps}
        return sum(ops.get(operation, 0.0) for ops in chosen.values())

    def operations(self, app_id: str) -> float:
        """Everything an app did per order: requests served, and calls through its sidecar (failed ones too)."""
        ops = self.per_order.get(app_id, {})
        return sum(n for kind, n in ops.items() if kind != Operation.FAILED)
