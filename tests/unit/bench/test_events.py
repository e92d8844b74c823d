"""The event floor waits on the subscriber's own count of deliveries; an app's memory at import is read."""

from __future__ import annotations

from bench.events import delivered
from bench.imports import rss_at_import_mib


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


def test_an_app_imported_in_a_fresh_interpreter_has_its_resident_memory_read() -> None:
    assert (rss_at_import_mib("analytics") or 0) > 20  # a whole interpreter and the app's libraries
    assert rss_at_import_mib("no_such_app") is None
