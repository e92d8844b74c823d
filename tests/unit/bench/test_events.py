"""The event floor waits on the subscriber's own count of deliveries."""

from __future__ import annotations

from bench.events import delivered


def test_the_event_floor_counts_one_topics_deliveries_whatever_became_of_them() -> None:
    text = "\n".join(
        [
            "# TYPE junction_event_deliveries_total counter",
            'junction_event_deliveries_total{outcome="applied",topic="order.confirmed"} 7.0',
            'junction_event_deliveries_total{outcome="dropped",topic="order.confirmed"} 1.0',
            'junction_event_deliveries_total{outcome="applied",topic="order.created"} 5.0',
            "",
        ]
    )
    assert delivered(text) == 8.0
    assert delivered(text, "order.created") == 5.0
