"""Every app serves Prometheus metrics on a loopback port of its own; an order shows in them; no app port has them."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_order_flow import order_in, place
from tools.stack import AppProcess, Stack

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
REQUESTS = "junction_http_requests_total"


def scrape(app: AppProcess) -> Samples:
    response = httpx.get(app.metrics_url, timeout=5)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(app: AppProcess, method: str, route: str, status: int) -> float:
    return value(scrape(app), REQUESTS, method=method, route=route, status=str(status))


def test_every_app_serves_its_metrics_on_127_0_0_1_alone(stack: Stack) -> None:
    for app_id in ("identity", "catalog", "orders", "payments", "notifications", "analytics", "admin", "gateway"):
        app = stack.apps[app_id]
        samples = scrape(app)
        # Its sidecar probes its health every 2 s: over HTTP, or over gRPC for identity.
        probed = "junction_grpc_requests_total" if app.protocol == "grpc" else REQUESTS
        assert any(name == probed for name, _ in samples), app_id
        assert any(name == "process_cpu_seconds_total" for name, _ in samples), app_id
        # Bound to 127.0.0.1 itself, not to every address: another loopback address finds nobody.
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.2", app.app_metrics_port)) != 0, app_id
    assert scrape(stack.apps["provisioner"])  # reached only by admin's sidecar, it serves its metrics all the same


def test_an_order_counts_by_route_template_and_status_at_the_gateway_and_at_orders(
    stack: Stack, gateway: httpx.Client, account: Account, make_product: Callable[..., dict[str, Any]]
) -> None:
    edge, orders = stack.apps["gateway"], stack.apps["orders"]
    placed_before = requests(edge, "POST", "/api/v1/orders", 201), requests(orders, "POST", "/orders", 201)
    read_before = requests(edge, "GET", "/api/v1/orders/{order_id}", 200)
    applied_before = value(
        scrape(orders), "junction_event_deliveries_total", topic="payment.succeeded", outcome="applied"
    )

    placed = place(gateway, account, make_product(stock=5), 1)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["data"]["id"]
    order_in(gateway, account, order_id, "CONFIRMED")  # GET /orders/{order_id} until confirmed

    assert requests(edge, "POST", "/api/v1/orders", 201) == placed_before[0] + 1
    assert requests(orders, "POST", "/orders", 201) >= placed_before[1] + 1  # a sidecar's retry is a request too
    assert requests(edge, "GET", "/api/v1/orders/{order_id}", 200) >= read_before + 1
    text = httpx.get(edge.metrics_url, timeout=5).text + httpx.get(orders.metrics_url, timeout=5).text
    assert order_id not in text  # the route's template, never the path
    # Counted once its handler returned (after the order was CONFIRMED and its reservation settled).
    wait_until(
        lambda: value(scrape(orders), "junction_event_deliveries_total", topic="payment.succeeded", outcome="applied"),
        lambda applied: applied >= applied_before + 1,
        timeout=10,
        what="orders' payment.succeeded delivery counted",
    )
    # The outboxes' gauges: orders' order.created and order.confirmed went out, catalog's stock events too.
    outbox_drained(orders, "sql")
    outbox_drained(stack.apps["catalog"], "state")


def outbox_drained(app: AppProcess, outbox: str) -> None:
    """Wait until the app's outbox gauges are there and say nothing is pending, of no age."""

    def drained(samples: Samples) -> bool:
        present = ("junction_outbox_pending", frozenset({("outbox", outbox)})) in samples
        return present and value(samples, "junction_outbox_pending", outbox=outbox) == 0 == value(
            samples, "junction_outbox_oldest_age_seconds", outbox=outbox
        )

    wait_until(lambda: scrape(app), drained, timeout=10, what=f"{app.app_id}'s {outbox} outbox gauges at 0")


def test_no_app_port_answers_metrics_the_public_one_least_of_all(stack: Stack) -> None:
    edge = httpx.get(f"{stack.apps['gateway'].app_url}/metrics", timeout=5)
    assert edge.status_code == 404
    assert "junction_" not in edge.text
    orders = stack.apps["orders"]
    inside = httpx.get(f"{orders.app_url}/metrics", headers={"dapr-api-token": orders.app_token}, timeout=5)
    assert inside.json()["statusCode"] == 404 and "junction_" not in inside.text
