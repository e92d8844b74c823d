"""One order is one trace in the trace backend: the gateway, orders, identity and catalog, then the event
deliveries to payments, notifications and analytics, each sidecar's spans and the apps' own joined."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from servicekit.tracing import REQUEST_ID_ATTRIBUTE
from tests.e2e.conftest import Account, wait_until
from tests.e2e.test_order_flow import order_in
from tools.stack import Stack

Trace = dict[str, Any]
ONE_ORDER = {"gateway", "orders", "identity", "catalog", "payments", "notifications", "analytics"}


def traces_of_request(stack: Stack, request_id: str) -> list[Trace]:
    """The traces whose gateway span carries `request_id`, from Jaeger's query API."""
    params = {"service": "gateway", "tags": json.dumps({REQUEST_ID_ATTRIBUTE: request_id}), "limit": "5"}
    answer = httpx.get(f"{stack.trace_query_url}/api/traces", params=params, timeout=5)
    if answer.status_code == 404:  # Jaeger answers 404 until the service has sent its first span
        return []
    answer.raise_for_status()
    found: list[Trace] = answer.json()["data"] or []
    return found


def services_in(found: Trace) -> set[str]:
    processes = found["processes"]
    return {processes[span["processID"]]["serviceName"] for span in found["spans"]}


def test_one_order_is_one_trace_across_every_service_it_touches(
    stack: Stack, gateway: httpx.Client, account: Account, make_product: Callable[..., dict[str, Any]]
) -> None:
    product = make_product(stock=3)
    request_id = f"trace-{uuid.uuid4().hex}"
    body = {"items": [{"productId": product["id"], "quantity": 1}], "paymentMethod": {"token": "tok_ok"}}
    placed = gateway.post("/orders", json=body, headers={**account.auth, "X-Request-ID": request_id})
    assert placed.status_code == 201, placed.text
    order_in(gateway, account, placed.json()["data"]["id"], "CONFIRMED")

    # Spans leave each process in batches (every few seconds), the later deliveries' last.
    found = wait_until(
        lambda: traces_of_request(stack, request_id),
        lambda traces: len(traces) == 1 and services_in(traces[0]) >= ONE_ORDER,
        timeout=40,
        what=f"one trace of request {request_id} with spans of {sorted(ONE_ORDER)}",
    )
    (trace,) = found
    spans = trace["spans"]
    assert len({span["traceID"] for span in spans}) == 1
    # Both kinds of span are there: the sidecars' (Dapr's) and the apps' own (the SDK's server spans).
    libraries = {tag["value"] for span in spans for tag in span["tags"] if tag["key"] == "otel.scope.name"}
    assert any(name.startswith("opentelemetry.instrumentation") for name in libraries), libraries
    # The events' deliveries hang under the publish that sent them, not beside the request.
    roots = [span for span in spans if not span["references"]]
    assert len(roots) == 1, [span["operationName"] for span in roots]


def test_a_refusal_names_its_trace_and_the_client_cannot_choose_it(
    stack: Stack, gateway: httpx.Client, account: Account
) -> None:
    chosen = "4bf92f3577b34da6a3ce929d0e0e4736"
    missing = gateway.get(
        f"/orders/{uuid.uuid4()}", headers={**account.auth, "traceparent": f"00-{chosen}-00f067aa0ba902b7-01"}
    )
    assert missing.status_code == 404
    trace_id = missing.json()["traceId"]
    assert isinstance(trace_id, str) and len(trace_id) == 32 and trace_id != chosen

    def trace_found() -> int:
        answer = httpx.get(f"{stack.trace_query_url}/api/traces/{trace_id}", timeout=5)
        return answer.status_code

    wait_until(trace_found, lambda status: status == 200, timeout=30, what=f"trace {trace_id} in the backend")
