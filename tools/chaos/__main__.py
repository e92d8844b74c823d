"""Run the chaos suite: `python -m tools.chaos [--short] [--output docs/reliability.md]`; exit 1 when books are off."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from tools.chaos.plan import FULL, SHORT
from tools.chaos.report import render, write
from tools.chaos.run import run
from tools.stack.stack import ROOT, new_run_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true", help="the bounded plan that `make test` runs")
    parser.add_argument("--output", help="write the report there (Markdown) as well as printing it")
    parser.add_argument("--payment-window", type=int, help="orders' PAYMENT_TIMEOUT_SECONDS for this run")
    args = parser.parse_args()
    plan = SHORT if args.short else FULL
    if args.payment_window:
        plan = dataclasses.replace(plan, payment_window=args.payment_window)
    outcome = run(plan, new_run_dir("chaos-runs"))
    command = (
        "make chaos"
        if sys.argv[1:] == ["--output", "docs/reliability.md"]
        else "python -m tools.chaos " + " ".join(sys.argv[1:])
    )
    report = render(outcome, command)
    print(report)
    if args.output:
        write(ROOT / args.output, report)
    return 1 if outcome.findings else 0


if __name__ == "__main__":
    sys.exit(main())
