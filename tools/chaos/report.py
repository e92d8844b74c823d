"""The chaos run as a Markdown table, printed and written to docs/reliability.md."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from pathlib import Path

from tools.chaos.run import Outcome


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"


def _when(outcome: Outcome, order_id: str) -> str:
    """Where an accepted order falls in the fault schedule."""
    at = next((i.accepted_at for i in outcome.load.intents if i.order_id == order_id), None)
    if at is None or not outcome.windows:
        return "time unknown"
    start = outcome.windows[0].killed
    struck = [w.name for w in outcome.windows if w.killed <= at <= w.recovered]
    before = [w.name for w in outcome.windows if w.recovered < at]
    place = f"during {struck[0]}" if struck else (f"after {before[-1]}" if before else "before the first fault")
    return f"accepted at {at - start:+.1f} s, {place}"


def table(outcome: Outcome) -> list[str]:
    load, books, errors = outcome.load, outcome.books, outcome.errors
    accepted = [i for i in load.intents if i.order_id]
    refused = Counter(i.outcome for i in load.intents if not i.order_id)
    tokens = Counter(i.token for i in accepted)
    slowest = ", ".join(f"{route} {s:.1f} s" for route, s in sorted(errors.slowest_5xx.items())) or "none"
    budget = ", ".join(f"{r} {s:.0f} s" for r, s in outcome.budgets.items() if r != "default")
    tenants_sent = Counter(a.outcome for a in load.tenants)
    rows = [
        ("customers (registered, signed in)", str(len(load.customers)), ""),
        ("orders sent (one Idempotency-Key each)", str(len(load.intents)), ""),
        ("POST /orders attempts (retries of the same key included)", str(sum(i.attempts for i in load.intents)), ""),
        ("accepted (201)", f"{len(accepted)} ({_counts(tokens)})", ""),
        ("not accepted, by last answer", _counts(refused), ""),
        ("cancelled by their customers (acknowledged)", str(sum(i.cancel_acknowledged for i in accepted)), ""),
        ("5xx during faults", _counts(errors.during), "answered within budget"),
        ("slowest 5xx during faults (budget)", f"{slowest} ({budget})", f"{errors.over_budget} over budget"),
        ("5xx outside the faults", _counts(errors.after), "0"),
        ("requests without an answer in time", _counts(errors.no_answer), "0"),
        ("orders in the system", str(books.orders_total), "= accepted"),
        ("final states", _counts(books.states), "CONFIRMED, CANCELLED, EXPIRED only"),
        ("orders placed but never answered to the client", str(books.unanswered_orders), ""),
        ("orders beyond one per Idempotency-Key", str(books.duplicate_orders), "0"),
        ("open reservations", str(books.open_reservations), "0"),
        ("dead letters, by subscriber and topic", _counts(books.dead_letters), "none"),
        ("stock drift, all products", str(sum(p.drift or 0 for p in books.products)), "0"),
        ("charges by status (one row per order)", _counts(books.charges), "1 SUCCEEDED per CONFIRMED"),
        ("provider ledger by status", _counts(books.ledger) if books.ledger else "not kept", "CAPTURED = CONFIRMED"),
        ("tenant creations sent, by answer", _counts(tenants_sent), ""),
        (
            "tenants (after bounded retries)",
            f"{_counts(books.tenants)} ({books.tenant_retries} retries)",
            "no PROVISIONING",
        ),
        ("orphan tenant databases", str(len(books.orphan_databases)), "0"),
    ]
    lines = ["| measure | value | expected |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += [
        "",
        "| product | initial | final | CONFIRMED units | drift | still reserved |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {p.id} | {p.initial} | {p.final} | {p.confirmed_units} | {p.drift} | {p.reserved_left} |"
        for p in books.products
    ]
    start = outcome.windows[0].killed if outcome.windows else 0.0
    lines += [
        "",
        "| fault | at s | down → ready s | tenant creation in flight | 5xx during | 5xx after it | restart |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    lines += [
        f"| {w.name} | {w.killed - start:.1f} | {w.recovered - w.killed:.1f} | "
        f"{'-' if w.tenant_in_flight is None else w.tenant_in_flight} | {errors.by_fault[w.name]['during']} | "
        f"{errors.by_fault[w.name]['after']} | {w.error or 'ok'} |"
        for w in outcome.windows
    ]
    return lines


def render(outcome: Outcome, command: str) -> str:
    plan = outcome.plan
    count = len(outcome.findings)
    verdict = "the books balance" if not count else f"{count} finding{'s' * (count > 1)}: the books do not balance"
    lines = [
        "# Reliability: faults under load, then the books",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({os.cpu_count()} cores, "
        f"profile `{outcome.profile}`, plan `{plan.name}`, {outcome.seconds:.0f} s after boot; "
        f"run folder `{outcome.run_dir}`).",
        f"Load through the gateway on 127.0.0.1: {plan.customers} customers over {plan.order_workers} clients, "
        f"{plan.products + 1} products (one scarce), 2-4 units per line, 75% `tok_ok`; payment window "
        f"{plan.payment_window} s; every fault is a SIGKILL, restarted {plan.down:.0f} s later on the same ports.",
        "",
        f"**Verdict: {verdict}.**",
        "",
        *table(outcome),
        "",
        "5xx are matched to faults by time, not by cause: `during` a fault means the request overlapped the",
        "moment of the SIGKILL up to the part reporting ready again plus the breakers' open window (an opened",
        "breaker tries the peer again at most that long after it is back: `circuitBreakers.peer.timeout`);",
        "`after it` counts 5xx from then until the next fault, when nothing was down (none is allowed).",
        "The budget is the gateway's timeout towards the",
        "app in components/common/resiliency.yaml. Stock, reservations and the provider ledger are read",
        "read-only from the apps' SQLite state files in the run folder; everything else through the public API.",
        "",
    ]
    if outcome.findings:
        lines += ["Findings:", "", *[f"- {finding}" for finding in outcome.findings], ""]
    if outcome.books.wrong_orders:
        lines += ["Accepted orders that ended wrong (when each was accepted):", ""]
        lines += [
            f"- {order_id}: {what}; {_when(outcome, order_id)}" for order_id, what in outcome.books.wrong_orders[:20]
        ]
        lines.append("")
        for order_id, _ in outcome.books.wrong_orders[:3]:
            lines += _trail(outcome, order_id)
    return "\n".join(lines)


TRAIL_LINES = 40


def _trail(outcome: Outcome, order_id: str) -> list[str]:
    """What every app logged in the traces of the order's POSTs (its events and deliveries join them), by time.

    An event delivery's access line has a request id of its own, so the trace id, which the gateway logged
    beside the POST's request id, is what finds the deliveries.
    """
    request_ids = next((i.request_ids for i in outcome.load.intents if i.order_id == order_id), [])
    logs = {path.name.removesuffix(".app.log"): path for path in sorted((outcome.run_dir / "logs").glob("*.app.log"))}
    lines = {app: path.read_text(errors="replace").splitlines() for app, path in logs.items()}
    trace_ids = {
        match.group(1)
        for line in lines.get("gateway", [])
        if any(request_id in line for request_id in request_ids)
        and (match := re.search(r'"traceId": "([0-9a-f]{32})"', line))
    }
    wanted = [*request_ids, *trace_ids]
    if not wanted:
        return []
    found = sorted(
        (line[:40], f"{app}: {line[:400]}")
        for app, text in lines.items()
        for line in text
        if any(w in line for w in wanted)
    )
    shown = [text for _, text in found[:TRAIL_LINES]]
    more = [f"... {len(found) - TRAIL_LINES} more"] if len(found) > TRAIL_LINES else []
    header = f"Log lines of {order_id} (traces {', '.join(sorted(trace_ids)) or 'not found'}), every app, by time:"
    return [header, "", "```", *shown, *more, "```", ""]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
