"""Nearest-rank percentiles and the latency spread."""

from __future__ import annotations

import pytest

from bench.stats import Spread, percentile


def test_nearest_rank_picks_a_sample_never_an_interpolation() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0, 1.0, 2.0], 50) == 2


def test_a_high_percentile_of_few_samples_is_the_largest() -> None:
    assert percentile([5.0, 1.0, 9.0], 99) == 9
    assert percentile([7.0], 50) == 7


def test_no_values_or_an_impossible_percentile_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 0)


def test_spread_of_nothing_is_none() -> None:
    assert Spread.of([]) is None
    assert Spread.of([4.0, 2.0]) == Spread(count=2, p50=2.0, p95=4.0, p99=4.0)
