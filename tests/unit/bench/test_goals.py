"""Issue 11's goals judged on the figures of a run."""

from __future__ import annotations

from dataclasses import replace

from bench.goals import Figures, evaluate

MEETS_ALL = Figures(
    cpu_ms_per_order=39.0,
    completed_per_s=55.0,
    saturation_errors=0,
    stock_conserved=True,
    payments_conserved=True,
    p50_at_5_ms=50.0,
    p95_at_5_ms=110.0,
    p95_at_40_ms=480.0,
    users_me_per_s=1600.0,
    hop_p50_added_ms=0.8,
    hop_p99_added_ms=2.5,
    app_rss_mib={"orders": 100.0, "identity": 119.0},
)


def _met(figures: Figures) -> list[bool]:
    return [goal.met for goal in evaluate(figures)]


def test_figures_within_every_limit_meet_every_goal() -> None:
    assert _met(MEETS_ALL) == [True] * 7


def test_each_figure_past_its_limit_fails_its_own_goal_only() -> None:
    cases = [
        (0, replace(MEETS_ALL, cpu_ms_per_order=40.5)),
        (1, replace(MEETS_ALL, completed_per_s=49.9)),
        (1, replace(MEETS_ALL, saturation_errors=1)),
        (1, replace(MEETS_ALL, stock_conserved=False)),
        (1, replace(MEETS_ALL, payments_conserved=False)),
        (2, replace(MEETS_ALL, p50_at_5_ms=61.0)),
        (2, replace(MEETS_ALL, p95_at_5_ms=121.0)),
        (3, replace(MEETS_ALL, p95_at_40_ms=501.0)),
        (4, replace(MEETS_ALL, users_me_per_s=1499.0)),
        (5, replace(MEETS_ALL, hop_p50_added_ms=1.1)),
        (5, replace(MEETS_ALL, hop_p99_added_ms=3.1)),
        (6, replace(MEETS_ALL, app_rss_mib={"orders": 100.0, "identity": 121.0})),
    ]
    for failing, figures in cases:
        assert _met(figures) == [index != failing for index in range(7)], figures


def test_what_was_not_measured_is_not_met() -> None:
    unmeasured = replace(MEETS_ALL, cpu_ms_per_order=None, p50_at_5_ms=None, users_me_per_s=None, app_rss_mib={})
    goals = evaluate(unmeasured)
    assert [g.met for g in goals] == [False, True, False, True, False, True, False]
    assert goals[0].measured == "not measured"


def test_the_measured_text_names_the_heaviest_app_and_the_books() -> None:
    goals = evaluate(replace(MEETS_ALL, stock_conserved=False))
    assert goals[6].measured == "largest: identity 119 MiB"
    assert "stock NOT conserved, payments conserved" in goals[1].measured
    assert goals[5].measured == "p50 +0.80 ms, p99 +2.50 ms"
