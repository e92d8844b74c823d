"""A phase of five orders the report and the phase figures are checked on."""

from __future__ import annotations

from bench.load import Sent
from bench.orders import OrderView, Placed, utc_seconds
from bench.phases import OrderPhase
from bench.shop import Customer

ADA = Customer("ada@example.com", "u-1", "token")
T0 = utc_seconds("2026-12-07T03:16:14.000000Z")


def _view(order_id: str, status: str, created: float, updated: float) -> OrderView:
    return OrderView(order_id, status, T0 + created, T0 + updated, 1.5, "pay" if status == "CONFIRMED" else None)


def _sent(index: int, due: float, latency: float, order_id: str | None, error: str | None = None) -> Sent[Placed]:
    return Sent(index, T0 + due, latency, Placed(ADA, "p-1", order_id, error))


PHASE = OrderPhase(
    name="steady",
    load="open loop",
    sent=[
        _sent(0, 0.0, 0.05, "o-0"),
        _sent(1, 0.5, 0.04, "o-1"),
        _sent(2, 1.0, 0.03, None, "503 DATABASE_UNAVAILABLE"),
        _sent(3, 1.5, 0.06, "o-3"),
        _sent(4, 2.0, 0.05, "o-4"),
    ],
    views={
        "o-0": _view("o-0", "CONFIRMED", 0.01, 0.10),
        "o-1": _view("o-1", "CONFIRMED", 0.51, 0.70),
        "o-3": _view("o-3", "PENDING_PAYMENT", 1.51, 1.56),
    },
    cpu_ms={"orders": 30.0, "orders daprd": 10.0},
    client_cpu_ms=4.0,
)
