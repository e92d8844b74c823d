"""Fuzz the gateway: `python -m tools.fuzz [--bounded] [--max-examples N] [--seed S] [--url URL]`; exit 1 on findings.

Without `--url` it boots a stack of its own (tools.stack, as `make chaos` does) and stops it afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from tools.fuzz.accounts import sign_in
from tools.fuzz.campaign import BOUNDED, FULL, Campaign, Outcome, run
from tools.fuzz.report import render
from tools.stack import Stack
from tools.stack.stack import new_run_dir

# One fuzzer is one client: the shipped tiers would turn most of its cases into 429s. Generous, not absent:
# the limiter still runs on every request, and its 429 is a documented answer.
RATE_LIMIT_TIERS: list[dict[str, object]] = [{"name": "default", "paths": ["/"], "limits": ["1000/second"]}]


def _campaign(args: argparse.Namespace) -> Campaign:
    campaign = BOUNDED if args.bounded else FULL
    if args.max_examples:
        campaign = dataclasses.replace(campaign, max_examples=args.max_examples)
    if args.seed is not None:
        campaign = dataclasses.replace(campaign, seed=args.seed)
    return campaign


def fuzz(campaign: Campaign, run_dir: Path, url: str | None) -> Outcome:
    """Fuzz the gateway at `url`, or a stack booted for this run (always stopped)."""
    if url:
        return run(campaign, url, sign_in(url), run_dir / "fuzz", echo=True)
    stack = Stack(run_dir, rate_limit_tiers=RATE_LIMIT_TIERS)
    try:
        stack.start()
        gateway = stack.apps["gateway"].app_url
        return run(campaign, gateway, sign_in(gateway), run_dir / "fuzz", echo=True)
    except Exception as exc:
        exc.add_note(f"stack logs (tails):\n{stack.log_tails(15)}")
        raise
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bounded", action="store_true", help="the short campaign that `make test` runs")
    parser.add_argument("--max-examples", type=int, help="fuzzed cases per operation and pass")
    parser.add_argument("--seed", type=int, help="schemathesis' seed (default: the campaign's)")
    parser.add_argument("--url", help="fuzz this running gateway (`make run`'s is http://127.0.0.1:8080)")
    args = parser.parse_args()
    campaign = _campaign(args)
    outcome = fuzz(campaign, new_run_dir("fuzz-runs"), args.url)
    command = "make fuzz" if not sys.argv[1:] else "python -m tools.fuzz " + " ".join(sys.argv[1:])
    print(render(outcome, command))
    return 1 if outcome.findings else 0


if __name__ == "__main__":
    sys.exit(main())
