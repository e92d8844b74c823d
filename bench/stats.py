"""Percentiles by the nearest-rank method, and the spread (p50, p95, p99) every latency figure reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The smallest value with at least q % of the values at or below it (nearest rank); q in (0, 100]."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Spread:
    """How a latency (ms) is spread over `count` samples."""

    count: int
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        """The spread of the values; None when there are none."""
        if not values:
            return None
        return cls(len(values), percentile(values, 50), percentile(values, 95), percentile(values, 99))
