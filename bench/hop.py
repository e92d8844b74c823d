"""The sidecar hop side by side: one cheap GET straight to an app, through its own sidecar, and sidecar to sidecar.

catalog's `GET /products/{id}` is read three ways: from catalog's port (with the token its sidecar
would present), through catalog's sidecar (`/v1.0/invoke/catalog/method/...` with catalog's own API
token) and through the gateway's sidecar, which hands it over mTLS to catalog's sidecar (the path
every call between apps takes). identity is a gRPC app: its HTTP routes are reached only through a
sidecar (Dapr's AppCallback), so `GET /users/{id}` is read through one sidecar and through two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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

    @property
    def via(self) -> str:
        return {0: "direct to the app", 1: "its own sidecar", 2: "caller's sidecar → its sidecar"}[self.sidecars]


def hop_routes(stack: Stack, *, product_id: str, user_id: str) -> list[Route]:
    catalog, identity, gateway = stack.apps["catalog"], stack.apps["identity"], stack.apps["gateway"]
    product, user = f"/products/{product_id}", f"/users/{user_id}"

    def invoke(via: str, app_id: str, path: str) -> str:
        return f"{stack.apps[via].sidecar_url}/v1.0/invoke/{app_id}/method{path}"

    return [
        Route("catalog", "GET /products/{id}", 0, catalog.app_url + product, {"dapr-api-token": catalog.app_token}),
        Route("catalog", "GET /products/{id}", 1, invoke("catalog", "catalog", product), _token(catalog.dapr_token)),
        Route("catalog", "GET /products/{id}", 2, invoke("gateway", "catalog", product), _token(gateway.dapr_token)),
        Route("identity", "GET /users/{id}", 1, invoke("identity", "identity", user), _token(identity.dapr_token)),
        Route("identity", "GET /users/{id}", 2, invoke("gateway", "identity", user), _token(gateway.dapr_token)),
    ]


def _token(dapr_token: str) -> dict[str, str]:
    return {"dapr-api-token": dapr_token}


@dataclass(frozen=True)
class HopRun:
    route: Route
    result: WrkResult


def measure_hops(routes: Iterable[Route], *, connections: Iterable[int], seconds: float) -> list[HopRun]:
    """wrk on every route at every number of connections; the runs compared with each other follow each other.

    Listed by route, then connections.
    """
    listed = list(routes)
    runs = [
        HopRun(route, run_wrk(route.url, connections=n, seconds=seconds, headers=route.headers))
        for n in connections
        for route in listed
    ]
    return sorted(runs, key=lambda run: (listed.index(run.route), run.result.connections))


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
