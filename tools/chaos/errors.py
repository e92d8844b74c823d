"""Server errors and lost answers, split by whether a fault was under way when the request ran."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tools.chaos.calls import Call
from tools.chaos.faults import Window


@dataclass
class ErrorBook:
    during: Counter[str] = field(default_factory=Counter)
    """5xx (by route and status) of requests that overlapped a fault (kill → ready again)."""
    after: Counter[str] = field(default_factory=Counter)
    """5xx of requests that overlapped no fault: the platform had recovered, none is allowed."""
    after_first_seconds: int = 0
    """How many of `after` started within a few seconds of a restart reporting ready."""
    no_answer: Counter[str] = field(default_factory=Counter)
    by_fault: dict[str, Counter[str]] = field(default_factory=dict)
    """5xx per fault: `during` it, and `after` it (once it was ready, until the next fault)."""
    slowest_5xx: dict[str, float] = field(default_factory=dict)
    over_budget: int = 0
    findings: list[str] = field(default_factory=list)


def classify(
    calls: list[Call],
    windows: list[Window],
    budgets: dict[str, float],
    *,
    breaker_seconds: float = 0.0,
    grace: float = 5.0,
) -> ErrorBook:
    """Sort 5xx into during and after the faults.

    A fault lasts from the SIGKILL until the part reports ready plus `breaker_seconds`: a breaker
    that opened while the part was down lets its one trial call through at most that long after the
    part is back (resiliency.yaml's `circuitBreakers.peer.timeout`). 5xx in that span must still be
    within budget; after it none is allowed.
    """
    book = ErrorBook(by_fault={w.name: Counter() for w in windows})
    for call in calls:
        struck = next((w for w in windows if w.overlaps(call.started, call.ended, breaker_seconds)), None)
        label = f"{call.route} → {call.status if call.status is not None else ''} {call.error or ''}".strip()
        if call.status is None:
            book.no_answer[label] += 1
            continue
        if not call.server_error:
            continue
        if struck is not None:
            book.by_fault[struck.name]["during"] += 1
        else:
            before = [w for w in windows if w.recovered + breaker_seconds < call.started]
            if before:
                book.by_fault[before[-1].name]["after"] += 1
        if struck is None:
            book.after[label] += 1
            book.after_first_seconds += any(0 <= call.started - w.recovered - breaker_seconds <= grace for w in windows)
            continue
        book.during[label] += 1
        book.slowest_5xx[call.route] = max(book.slowest_5xx.get(call.route, 0.0), call.seconds)
        book.over_budget += call.seconds > budgets.get(call.route, budgets["default"])
    if book.after:
        book.findings.append(
            f"{sum(book.after.values())} 5xx outside the fault windows ({book.after_first_seconds} within "
            f"{grace:.0f} s of a restart and its breaker window): {dict(book.after)}"
        )
    if book.no_answer:
        book.findings.append(f"{sum(book.no_answer.values())} requests got no answer in time: {dict(book.no_answer)}")
    if book.over_budget:
        book.findings.append(f"{book.over_budget} 5xx during faults came back later than the timeout budget")
    return book
