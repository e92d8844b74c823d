"""Prometheus metrics every app keeps, served on a loopback port of their own (METRICS_PORT), never the app's.

An app's port answers its own sidecar alone, and the gateway's is the public edge, so `/metrics` is no
route: `serve_metrics` runs prometheus_client's server in a thread for the app's lifespan. Everything is
in the process's default registry, beside prometheus_client's own process and Python metrics:

    junction_http_requests_total{method, route, status}       each request; `route` is the route's
                                                              template (`/orders/{order_id}`), `unmatched`
                                                              when none matches; `status` the real one
                                                              (a refusal sent as 200 inside the mesh counts
                                                              as its own status, as the access log does)
    junction_http_request_duration_seconds{method, route}     the same requests' latency
    junction_grpc_requests_total{method, code}                a gRPC app's calls (identity), by full method
    junction_grpc_request_duration_seconds{method}            name and status code, and their latency
    junction_event_deliveries_total{topic, outcome}           applied | duplicate | retry | dropped
    junction_outbox_pending{outbox}                           entries staged and not yet published, as
    junction_outbox_oldest_age_seconds{outbox}                the relay last saw them (sql | state)
    junction_outbox_set_aside_total{topic}                    entries a relay dead-lettered itself
    junction_dead_letters_total{subscriber, topic}            admin: dead letters kept (not redeliveries)
    junction_dead_letter_replays_total{subscriber}            admin: letters sent back to their subscriber
    junction_breaker_refusals_total{peer}                     calls the sidecar refused, the peer's breaker open
    junction_cached_reads_total{cache, outcome}               reads through a read cache (servicekit.read_cache):
                                                              hit | miss | stale (a copy answered, the owner
                                                              did not) | bypass
    junction_read_cache_failures_total{cache, operation,      a read cache's lookup or keep that failed or ran
                                       reason}                out of time (`reason`: the kit's error code, or
                                                              TIMEOUT); the read went on without the copy
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from weakref import WeakKeyDictionary

from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY, Counter, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, compile_path
from starlette.types import Scope

from servicekit.clock import as_utc

UNMATCHED = "unmatched"
"""The route label of a request no route matches: one label, whatever the path (no cardinality blow-up)."""
# No `_created` series beside every counter and histogram: half the scrape, nothing a dashboard reads.
disable_created_metrics()  # type: ignore[no-untyped-call]
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 75.0)
"""Up to the longest budget a call may have (the gateway's 75 s tenant creation, docs/timeouts.md)."""

REQUESTS = Counter("junction_http_requests", "HTTP requests served.", ["method", "route", "status"])
LATENCY = Histogram(
    "junction_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
DELIVERIES = Counter("junction_event_deliveries", "Event deliveries, by what became of them.", ["topic", "outcome"])
SET_ASIDE = Counter("junction_outbox_set_aside", "Outbox entries that could never be sent, dead-lettered.", ["topic"])
DEAD_LETTERS = Counter(
    "junction_dead_letters", "Dead letters kept (a redelivery of one is not).", ["subscriber", "topic"]
)
REPLAYS = Counter("junction_dead_letter_replays", "Dead letters replayed to their subscriber.", ["subscriber"])
GRPC_REQUESTS = Counter("junction_grpc_requests", "gRPC calls served (unary).", ["method", "code"])
GRPC_LATENCY = Histogram(
    "junction_grpc_request_duration_seconds", "Time to answer a gRPC call.", ["method"], buckets=LATENCY_BUCKETS
)
BREAKER_REFUSALS = Counter(
    "junction_breaker_refusals", "Calls the sidecar refused because the peer's circuit breaker was open.", ["peer"]
)
CACHED_READS = Counter(
    "junction_cached_reads", "Reads through a read cache, by where the answer came from.", ["cache", "outcome"]
)
READ_CACHE_FAILURES = Counter(
    "junction_read_cache_failures",
    "Lookups and keeps of a read cache that failed or ran out of time; the read went on without the copy.",
    ["cache", "operation", "reason"],
)

_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
"""Each (method, route, status)'s children, so a request costs two dict lookups instead of two `labels` calls."""


class _Templates:
    """An app's route templates as it serves them, an included router's prefix and all.

    FastAPI (0.163) routes an included router's requests to the original APIRoute, whose own `path`
    lacks the prefix it was included under: the templates come from FastAPI's route contexts instead.
    """

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.of_route: dict[int, str] = {}
        """By the route's id (routes compare by value, so they do not hash); the routes live as long as the app."""
        self.patterns: list[tuple[re.Pattern[str], frozenset[str], str]] = []
        for context in iter_route_contexts(routes):
            template = context.path_format
            if context.path is None or template is None:
                continue
            self.of_route.setdefault(id(context.original_route), template)
            regex, _, _ = compile_path(context.path)
            self.patterns.append((regex, frozenset(context.methods or ()), template))

    def of(self, scope: Scope) -> str:
        template = self.of_route.get(id(scope.get("route")))
        if template is not None:
            return template
        # Refused before routing (the sidecar token, the body limit, a rate limit): the route it was meant for.
        path, method = scope["path"], scope["method"]
        for regex, methods, template in self.patterns:
            if regex.match(path) and (not methods or method in methods):
                return template
        return UNMATCHED


_templates: WeakKeyDictionary[object, _Templates] = WeakKeyDictionary()
"""Each app's templates (by the app object), built at its first request: its routes are all added by then."""


def route_of(scope: Scope) -> str:
    """The template of the route that served (or would have served) the request, else UNMATCHED."""
    app = scope.get("app")
    templates = _templates.get(app) if app is not None else None
    if templates is None:
        routes = getattr(getattr(app, "router", None), "routes", None)
        if app is None or routes is None:
            return UNMATCHED
        templates = _templates[app] = _Templates(list(routes))
    return templates.of(scope)


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    method = scope["method"] if scope["method"] in _METHODS else "OTHER"
    key = (method, route_of(scope), status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (REQUESTS.labels(method, key[1], str(status)), LATENCY.labels(method, key[1]))
    children[0].inc()
    children[1].observe(seconds)


def observe_grpc(method: str, code: str, seconds: float) -> None:
    """Count one answered gRPC call (`method` is its full name, registered, so bounded) and its latency."""
    GRPC_REQUESTS.labels(method, code).inc()
    GRPC_LATENCY.labels(method).observe(seconds)


class OutboxBacklog:
    """What an outbox relay last saw staged and unsent: how many entries, and when the oldest was staged.

    The relay records it on each pass from what the pass read anyway; a scrape only reads it (from the
    server's thread: one tuple, replaced whole).
    """

    def __init__(self) -> None:
        self.seen: tuple[int, float | None] = (0, None)

    def record(self, pending: int, oldest: datetime | None) -> None:
        if pending <= 0 or oldest is None:
            self.seen = (max(pending, 0), None)
            return
        self.seen = (pending, as_utc(oldest).timestamp())  # SQLite keeps no zone: naive is UTC


class _OutboxCollector(Collector):
    """The running relays' backlogs, read at scrape time: the age grows while a stalled relay waits."""

    def __init__(self) -> None:
        self.backlogs: dict[str, OutboxBacklog] = {}

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily("junction_outbox_pending", "Outbox entries not yet published.", labels=["outbox"])
        age = GaugeMetricFamily(
            "junction_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox entry.", labels=["outbox"]
        )
        now = time.time()
        for name, backlog in list(self.backlogs.items()):
            count, oldest = backlog.seen
            pending.add_metric([name], count)
            age.add_metric([name], 0.0 if oldest is None else max(now - oldest, 0.0))
        return [pending, age]


_outboxes = _OutboxCollector()
REGISTRY.register(_outboxes)


def watch_outbox(name: str, backlog: OutboxBacklog) -> None:
    """Export a running relay's backlog under `outbox=name`."""
    _outboxes.backlogs[name] = backlog


def unwatch_outbox(name: str, backlog: OutboxBacklog) -> None:
    """Stop exporting a relay's backlog (unless another relay took the name since)."""
    if _outboxes.backlogs.get(name) is backlog:
        del _outboxes.backlogs[name]


@asynccontextmanager
async def serve_metrics(port: int | None, *, host: str = "127.0.0.1") -> AsyncIterator[None]:
    """Serve the registry on http://host:port/metrics while the block runs; nothing when `port` is None."""
    if port is None:
        yield
        return
    server, thread = start_http_server(port, addr=host)
    try:
        yield
    finally:
        await asyncio.to_thread(server.shutdown)  # waits for serve_forever's poll (up to 0.5 s), off the loop
        server.server_close()
        thread.join(timeout=5)
