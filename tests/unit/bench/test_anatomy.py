"""An order's operations are counted from the apps' and the sidecars' Prometheus counters."""

from __future__ import annotations

import pytest

from bench.anatomy import Anatomy, Counts, Operation, app_counts, sidecar_counts

APP_METRICS = """\
# HELP junction_http_requests_total HTTP requests served.
# TYPE junction_http_requests_total counter
junction_http_requests_total{method="POST",route="/events/{topic}",status="200"} 5.0
junction_http_requests_total{method="GET",route="/readyz",status="200"} 2.0
junction_http_requests_created{method="POST",route="/events/{topic}",status="200"} 1.79e+09
# HELP junction_grpc_requests_total gRPC calls served (unary).
# TYPE junction_grpc_requests_total counter
junction_grpc_requests_total{method="GetUser",code="OK"} 3.0
# HELP junction_event_deliveries_total Event deliveries, by what became of them.
# TYPE junction_event_deliveries_total counter
junction_event_deliveries_total{outcome="applied",topic="order.created"} 5.0
"""


def _rpcs(method: str, status: str, count: int) -> str:
    labels = f'app_id="a",grpc_server_method="/dapr.proto.{method}",grpc_server_status="{status}"'
    return f"dapr_grpc_io_server_completed_rpcs{{{labels}}} {count}"


SIDECAR_METRICS = "\n".join(
    [
        "# HELP dapr_grpc_io_server_completed_rpcs Count of RPCs by method and status.",
        "# TYPE dapr_grpc_io_server_completed_rpcs counter",
        _rpcs("runtime.v1.Dapr/GetState", "OK", 10),
        _rpcs("runtime.v1.Dapr/GetBulkState", "OK", 1),
        _rpcs("runtime.v1.Dapr/ExecuteStateTransaction", "OK", 4),
        _rpcs("runtime.v1.Dapr/ExecuteStateTransaction", "Internal", 1),
        _rpcs("runtime.v1.Dapr/PublishEvent", "OK", 2),
        _rpcs("internals.v1.ServiceInvocation/CallLocal", "OK", 7),
        "# HELP dapr_runtime_service_invocation_req_sent_total The number of requests sent.",
        "# TYPE dapr_runtime_service_invocation_req_sent_total counter",
        'dapr_runtime_service_invocation_req_sent_total{app_id="a",dst_app_id="catalog",type="unary"} 2',
        "",
    ]
)


def test_an_app_counts_every_request_it_served_over_http_and_grpc() -> None:
    assert app_counts(APP_METRICS) == 10.0


def test_a_sidecar_counts_building_block_calls_by_kind_and_method_not_peer_traffic() -> None:
    operations, by_method = sidecar_counts(SIDECAR_METRICS)
    assert operations == {
        Operation.STATE_READ: 11.0,
        Operation.STATE_WRITE: 5.0,
        Operation.FAILED: 1.0,
        Operation.PUBLISH: 2.0,
        Operation.CALL: 2.0,
    }
    assert by_method == {"GetState": 10.0, "GetBulkState": 1.0, "ExecuteStateTransaction": 5.0, "PublishEvent": 2.0}


def test_operations_per_order_are_the_counters_moves_over_the_orders() -> None:
    before = {"orders": Counts({Operation.SERVED: 10.0, Operation.STATE_READ: 4.0}, {"GetState": 4.0})}
    after = {
        "orders": Counts({Operation.SERVED: 30.0, Operation.STATE_READ: 8.0, Operation.FAILED: 2.0}, {"GetState": 8.0}),
        "payments": Counts({Operation.SERVED: 10.0}, {}),
    }
    anatomy = Anatomy.between(before, after, orders=10)
    assert anatomy.per_order["orders"] == {
        Operation.SERVED: 2.0,
        Operation.STATE_READ: 0.4,
        Operation.FAILED: 0.2,
    }
    assert anatomy.methods_per_order["orders"] == {"GetState": pytest.approx(0.4)}
    assert anatomy.operations("orders") == pytest.approx(2.4)  # failed calls are already in their kind
    assert anatomy.total(Operation.SERVED) == 3.0
    assert anatomy.total(Operation.SERVED, ["payments"]) == 1.0


def test_no_order_confirmed_leaves_nothing_per_order() -> None:
    anatomy = Anatomy.between({}, {"orders": Counts({Operation.SERVED: 3.0})}, orders=0)
    assert anatomy.per_order["orders"] == {}
    assert anatomy.operations("orders") == 0.0
