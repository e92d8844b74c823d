"""One fuzz campaign: a schemathesis pass per account against a running gateway, read back from its JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.fuzz import hooks
from tools.fuzz.hooks import TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
HOOKS = str(Path(hooks.__file__))
"""Loaded by file, not as `tools.fuzz.hooks`: schemathesis then imports nothing of the project but the hooks."""
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
)
"""No 5xx; every status, content type, header and body as the OpenAPI documents it; bad input and a missing
or forged token refused."""
CONFIG = "[cache]\nenabled = false\n"
"""No crash cache under the checkout: each run starts from its seed alone."""


@dataclass(frozen=True)
class Campaign:
    """How much to generate; both passes (a customer's token, then the admin's) run every operation."""

    name: str
    max_examples: int
    """Fuzzing-phase cases per operation and pass; the coverage phase adds its boundary cases on top."""
    min_cases: int
    """Fewer generated cases than this is a finding: a run that tested little must not pass."""
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing")
    checks: tuple[str, ...] = CHECKS
    seed: int = 8
    roles: tuple[str, ...] = ("customer", "admin")
    request_timeout: float = 30.0
    skip_paths: tuple[str, ...] = ()
    """Operations left out, by path: streams, and what the stack's rate limits would turn against later tests."""


STREAMS = ("/api/v1/admin/events/stream",)
"""Answers that never end: schemathesis would wait on one for ever (its timeout is per read, and the stream
writes at least every 15 s). tests/unit/gateway/test_event_stream.py walks its refusals and bad filters."""
FULL = Campaign(
    "full", max_examples=100, min_cases=1000, phases=("examples", "coverage", "fuzzing", "stateful"), skip_paths=STREAMS
)
"""Stateful too: sequences that follow the OpenAPI's links (a created product, then its order, ...)."""
# The shared test stack keeps the shipped count of wrong logins per address, and a client past it is refused
# every login for up to an hour: fuzzing sign-in there would lock the tests after this one out. `make fuzz`
# boots a stack without that tier and fuzzes sign-in too.
BOUNDED = Campaign(
    "bounded",
    max_examples=8,
    min_cases=1000,
    phases=("coverage", "fuzzing"),
    skip_paths=("/api/v1/auth/login", *STREAMS),
)


@dataclass
class Pass:
    """One schemathesis run as one account, with what its JSON report says."""

    role: str
    report: dict[str, Any]
    seconds: float
    output: Path

    @property
    def cases(self) -> int:
        return int(self.report.get("test_cases", {}).get("generated", 0))

    @property
    def failures(self) -> Counter[str]:
        """Unique failures by kind (`ST101 Server error`, ...)."""
        counts: Counter[str] = Counter()
        for failure in self.report.get("failures", []):
            counts[f"{failure['code']} {failure['title']}"] += int(failure["count"])
        return counts

    @property
    def errors(self) -> Counter[str]:
        """What kept schemathesis from testing an operation (it is a finding too: that operation went untested)."""
        return Counter({str(e["title"]): int(e["count"]) for e in self.report.get("errors", [])})


@dataclass
class Outcome:
    campaign: Campaign
    passes: list[Pass] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(p.cases for p in self.passes)

    @property
    def server_errors(self) -> int:
        return sum(n for p in self.passes for kind, n in p.failures.items() if kind.startswith("ST101 "))

    @property
    def findings(self) -> list[str]:
        found = [f"{p.role}: {n} x {kind} (see {p.output})" for p in self.passes for kind, n in p.failures.items()]
        found += [f"{p.role}: {n} x {kind} (see {p.output})" for p in self.passes for kind, n in p.errors.items()]
        if self.cases < self.campaign.min_cases:
            found.append(f"only {self.cases} cases generated, fewer than the {self.campaign.min_cases} required")
        return found


def _command(campaign: Campaign, gateway_url: str, report: Path, config: Path) -> list[str]:
    return [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{gateway_url}/openapi.json",
        "--checks",
        ",".join(campaign.checks),
        "--phases",
        ",".join(campaign.phases),
        "--max-examples",
        str(campaign.max_examples),
        "--seed",
        str(campaign.seed),
        # One worker: CPython 3.11's parser can raise "AST constructor recursion depth mismatch" when
        # hypothesis describes a filter from several threads at once; two cores are busy with the stack anyway.
        "--workers",
        "1",
        "--request-timeout",
        str(campaign.request_timeout),
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *[option for path in campaign.skip_paths for option in ("--exclude-path", path)],
    ]


def run_pass(campaign: Campaign, gateway_url: str, role: str, token: str, out_dir: Path, *, echo: bool) -> Pass:
    """Run schemathesis as one account; its output goes to a file (and to the console with `echo`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report, output, config = out_dir / f"{role}.json", out_dir / f"{role}.txt", out_dir / "schemathesis.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, TOKEN_ENV: token}
    begun = time.monotonic()
    command = _command(campaign, gateway_url, report, config)
    with (
        output.open("w") as log,
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if echo:
                print(line, end="", flush=True)
    seconds = time.monotonic() - begun
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {process.returncode}); its output: {output}")
    return Pass(role, json.loads(report.read_text()), seconds, output)


def run(campaign: Campaign, gateway_url: str, tokens: dict[str, str], out_dir: Path, *, echo: bool = False) -> Outcome:
    """Fuzz a running gateway once per role of the campaign."""
    outcome = Outcome(campaign)
    for role in campaign.roles:
        outcome.passes.append(run_pass(campaign, gateway_url, role, tokens[role], out_dir, echo=echo))
    return outcome
