"""The sidecar hop side by side: one cheap GET straight to an app, through its own sidecar, and sidecar to sidecar.

catalog's `GET /products/{id}` is read three ways: from catalog's port (with the token its sidecar
would present), through catalog's sidecar (`/v1.0/invoke/catalog/method/...` with catalog's own API
token) and through the gateway's sidecar, which hands it over mTLS to catalog's sidecar (the path
every call between apps takes). identity is a gRPC app: its HTTP routes are reached only through a
sidecar (Dapr's AppCallback), so `GET /users/{id}` is read through one sidecar and through two. The
gateway's `GET /healthz` (no I/O, no span) is the least any request costs one of the platform's apps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bench.processes import Watched, cpu_ms_between, snapshot
from bench.wrk import WrkResult, run_wrk
from tools.stack import Stack


@dataclass(frozen=True)
class Route:
    """One way to send the same request to an app."""

    app_id: str
    path: str
    sidecars: int
    url: str
    headers: dict[str, str]
    processes: tuple[str, ...] = ()
    """The processes the request crosses, by their names in bench.processes: the app, then its sidecars."""

    @property
    def via(self) -> str:
        return {0: "direct to the app", 1: "its own sidecar", 2: "caller's sidecar → its sidecar"}[self.sidecars]


def hop_routes(stack: Stack, *, product_id: str, user_id: str) -> list[Route]:
    catalog, identity, gateway = stack.apps["catalog"], stack.apps["identity"], stack.apps["gateway"]
    product, user = f"/products/{product_id}", f"/users/{user_id}"

    def invoke(via: str, app_id: str, path: str) -> str:
        return f"{stack.apps[via].sidecar_url}/v1.0/invoke/{app_id}/method{path}"

    on_catalog = ("catalog", "catalog daprd", "gateway daprd")
    least = Route("gateway", "GET /healthz", 0, gateway.app_url + "/healthz", {}, ("gateway",))
    on_identity = ("identity", "identity daprd", "gateway daprd")
    return [
        least,
        Route(
            "catalog",
            "GET /products/{id}",
            0,
            catalog.app_url + product,
            {"dapr-api-token": catalog.app_token},
            on_catalog[:1],
        ),
        Route(
            "catalog",
            "GET /products/{id}",
            1,
            invoke("catalog", "catalog", product),
            _token(catalog.dapr_token),
            on_catalog[:2],
        ),
        Route(
            "catalog",
            "GET /products/{id}",
            2,
            invoke("gateway", "catalog", product),
            _token(gateway.dapr_token),
            on_catalog,
        ),
        Route(
            "identity",
            "GET /users/{id}",
            1,
            invoke("identity", "identity", user),
            _token(identity.dapr_token),
            on_identity[:2],
        ),
        Route(
            "identity",
            "GET /users/{id}",
            2,
            invoke("gateway", "identity", user),
            _token(gateway.dapr_token),
            on_identity,
        ),
    ]


def _token(dapr_token: str) -> dict[str, str]:
    return {"dapr-api-token": dapr_token}


@dataclass(frozen=True)
class HopRun:
    route: Route
    result: WrkResult
    cpu_ms_per_request: Mapping[str, float] = field(default_factory=dict)
    """CPU time per request of every platform process during the run (the route's own and any other)."""

    def route_cpu_ms(self) -> list[float]:
        """CPU ms per request of the route's processes, in the route's order (the app, then its sidecars)."""
        return [self.cpu_ms_per_request.get(name, 0.0) for name in self.route.processes]


def measure_hops(
    routes: Iterable[Route], *, connections: Iterable[int], seconds: float, watched: list[Watched] | None = None
) -> list[HopRun]:
    """wrk on every route at every number of connections; the runs compared with each other follow each other.

    With `watched`, each run also says what every watched process spent per request. Listed by route,
    then connections.
    """
    listed = list(routes)
    runs = [measured(route, n, seconds=seconds, watched=watched or []) for n in connections for route in listed]
    return sorted(runs, key=lambda run: (listed.index(run.route), run.result.connections))


def measured(route: Route, connections: int, *, seconds: float, watched: list[Watched]) -> HopRun:
    """One wrk run on `route`, with the CPU each watched process spent per request meanwhile."""
    before = snapshot(watched)
    result = run_wrk(route.url, connections=connections, seconds=seconds, headers=route.headers)
    return HopRun(route, result, cpu_per_request(cpu_ms_between(before, snapshot(watched)), result.requests))


def cpu_per_request(cpu_ms: Mapping[str, float], requests: int) -> dict[str, float]:
    """Each process's CPU ms divided by the requests answered (none when nothing was answered)."""
    return {name: ms / requests for name, ms in cpu_ms.items()} if requests else {}


def added_ms(runs: list[HopRun], run: HopRun) -> tuple[int, float, float] | None:
    """What `run` adds (p50, p99 in ms) over the same app's route with the fewest sidecars at the same connections.

    Returns (sidecars added, added p50, added p99), or None for the baseline itself.
    """
    same = [r for r in runs if r.route.app_id == run.route.app_id and r.result.connections == run.result.connections]
    base = min(same, key=lambda r: r.route.sidecars)
    if base.route.sidecars == run.route.sidecars:
        return None
    return (
        run.route.sidecars - base.route.sidecars,
        run.result.p50_ms - base.result.p50_ms,
        run.result.p99_ms - base.result.p99_ms,
    )
