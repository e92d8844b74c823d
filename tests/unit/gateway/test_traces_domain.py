"""The trace view's mapping of Jaeger's JSON: spans by start, parents, services, timing, errors, and only safe tags."""

from __future__ import annotations

from typing import Any

from apps.gateway.traces import MAX_SPANS, request_trace, safe_tags, trace_view

TRACE_ID = "4b60892e6f5d7654f10e4e051b3c9109"
T0 = 1_796_641_796_893_000  # microseconds, as Jaeger writes startTime


def span(
    span_id: str,
    process: str,
    *,
    start: int = 0,
    duration: int = 1000,
    parent: str | None = None,
    operation: str = "op",
    **tags: Any,
) -> dict[str, Any]:
    """A span as Jaeger's `/api/traces` answers it; `start` and `duration` in microseconds from T0."""
    references = [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": parent}] if parent else []
    return {
        "traceID": TRACE_ID,
        "spanID": span_id,
        "operationName": operation,
        "references": references,
        "startTime": T0 + start,
        "duration": duration,
        "tags": [{"key": key.replace("__", "."), "type": "string", "value": value} for key, value in tags.items()],
        "logs": [],
        "processID": process,
    }


def jaeger_trace(*spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "traceID": TRACE_ID,
        "spans": list(spans),
        "processes": {
            "p1": {"serviceName": "gateway", "tags": []},
            "p2": {"serviceName": "orders", "tags": []},
            "p3": {"serviceName": "payments", "tags": []},
        },
    }


def test_spans_come_ordered_by_start_with_their_parent_service_and_timing() -> None:
    view = trace_view(
        jaeger_trace(
            span("c", "p3", start=5_000, duration=2_500, parent="b", operation="/payments"),
            span("a", "p1", start=0, duration=12_345, operation="POST /api/v1/orders"),
            span("b", "p2", start=1_500, duration=8_000, parent="a"),
        )
    )
    assert view.trace_id == TRACE_ID
    assert [(s.span_id, s.parent_id, s.service) for s in view.spans] == [
        ("a", None, "gateway"),
        ("b", "a", "orders"),
        ("c", "b", "payments"),
    ]
    assert [(s.start_ms, s.duration_ms) for s in view.spans] == [(0.0, 12.345), (1.5, 8.0), (5.0, 2.5)]
    assert view.services == ["gateway", "orders", "payments"]
    assert view.duration_ms == 12.345
    assert view.spans[0].operation == "POST /api/v1/orders" and not view.truncated


def test_a_parent_in_another_trace_is_no_parent_and_an_unknown_process_is_named_so() -> None:
    stray = span("a", "p9", parent="x")
    stray["references"][0]["traceID"] = "0" * 32
    (only,) = trace_view(jaeger_trace(stray)).spans
    assert (only.parent_id, only.service) == (None, "unknown")


def test_errors_are_flagged_from_the_error_tag_or_the_otel_status() -> None:
    error_tag = span("a", "p1", error=True)
    status = span("b", "p2", start=1, otel__status_code="ERROR")
    fine = span("c", "p3", start=2, otel__status_code="OK")
    assert [s.error for s in trace_view(jaeger_trace(error_tag, status, fine)).spans] == [True, True, False]


def test_only_safe_tags_are_kept_and_paths_lose_their_query() -> None:
    tags: dict[str, Any] = {
        "http.method": "POST",
        "http.route": "/api/v1/orders",
        "http.target": "/api/v1/orders?token=secret#frag",
        "http.status_code": 201,
        "rpc.method": "GetUser",
        "messaging.destination.name": "order.created",
        "span.kind": "server",
        "junction.request_id": "r-1",
        "http.url": "http://127.0.0.1:8080/api/v1/orders?token=secret",
        "http.user_agent": "curl",
        "http.request.header.authorization": "Bearer abc",
        "net.peer.ip": "10.0.0.7",
        "db.statement": "SELECT * FROM users",
        "db.connection_string": "postgresql://u:p@db",
    }
    assert safe_tags(tags) == {
        "http.method": "POST",
        "http.route": "/api/v1/orders",
        "http.target": "/api/v1/orders",
        "http.status_code": "201",
        "rpc.method": "GetUser",
        "messaging.destination.name": "order.created",
    }
    (mapped,) = trace_view(jaeger_trace(span("a", "p1", **{k.replace(".", "__"): v for k, v in tags.items()}))).spans
    assert mapped.tags == safe_tags(tags) and mapped.kind == "server"


def test_a_huge_trace_is_cut_and_says_so() -> None:
    view = trace_view(jaeger_trace(*(span(f"s{i}", "p1", start=i) for i in range(MAX_SPANS + 5))))
    assert len(view.spans) == MAX_SPANS and view.truncated


def test_an_empty_or_malformed_trace_maps_to_an_empty_view() -> None:
    assert trace_view({"traceID": TRACE_ID, "spans": None, "processes": None}).spans == []
    assert trace_view({"traceID": TRACE_ID, "spans": ["not a span"]}).duration_ms == 0.0


def test_a_request_finds_the_first_trace_whose_gateway_span_carries_its_id() -> None:
    def traced(trace_id: str, start: int, process: str, request_id: str) -> dict[str, Any]:
        found = jaeger_trace(span("a", process, start=start, junction__request_id=request_id))
        return {**found, "traceID": trace_id}

    traces = [
        traced("later", 9_000, "p1", "r-1"),
        traced("orders-only", 0, "p2", "r-1"),  # an event delivery carries the id too, but is not the request
        traced("other", 0, "p1", "r-2"),
        traced("first", 1_000, "p1", "r-1"),
    ]
    found = request_trace(traces, "r-1", service="gateway")
    assert found is not None and found["traceID"] == "first"
    assert request_trace(traces, "r-3", service="gateway") is None
