"""The summary a fuzz run prints: cases, server errors and findings per pass, and the verdict."""

from __future__ import annotations

from tools.fuzz.campaign import Outcome


def render(outcome: Outcome, command: str) -> str:
    campaign = outcome.campaign
    lines = [
        f"## Fuzz run `{command}` ({campaign.name}: up to {campaign.max_examples} fuzzed cases per operation and pass)",
        "",
        "| pass | operations | cases | server errors | other findings | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for p in outcome.passes:
        failures = sum(p.failures.values()) + sum(p.errors.values())
        server = sum(n for kind, n in p.failures.items() if kind.startswith("ST101 "))
        tested = p.report.get("operations", {}).get("tested", 0)
        lines.append(f"| {p.role} | {tested} | {p.cases} | {server} | {failures - server} | {p.seconds:.0f} |")
    seconds = sum(p.seconds for p in outcome.passes)
    lines.append(f"| all | | {outcome.cases} | {outcome.server_errors} | | {seconds:.0f} |")
    lines += ["", f"Checks: {', '.join(campaign.checks)}. Seed {campaign.seed}."]
    if campaign.skip_paths:
        lines.append(f"Left out: {', '.join(campaign.skip_paths)}.")
    findings = outcome.findings
    lines += ["", "Clean: 0 server errors, every response as documented." if not findings else "Findings:"]
    lines += [f"- {finding}" for finding in findings]
    return "\n".join(lines)
