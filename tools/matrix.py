"""`make test`: the checks (`make lint`), the unit and integration tests once, then end-to-end on each profile.

    python -m tools.matrix [PROFILE ...]     default: every profile components/profiles.yaml puts in CI

Each part's duration is printed as it ends and again in a summary; a failing part does not stop the
others, and the run fails if any part failed (pytest's "no tests collected" counts as a failure).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def ci_profiles() -> list[str]:
    profiles = yaml.safe_load((ROOT / "components" / "profiles.yaml").read_text())
    return [name for name, entry in profiles.items() if entry.get("ci", True)]


def run_part(name: str, command: list[str], profile: str) -> tuple[str, float, int]:
    print(f"\n=== {name} ===", flush=True)
    started = time.monotonic()
    env = {**os.environ, "JUNCTION_PROFILE": profile}
    status = subprocess.call(command, cwd=ROOT, env=env)
    seconds = time.monotonic() - started
    print(f"=== {name}: {'passed' if status == 0 else f'FAILED ({status})'} in {seconds:.0f} s ===", flush=True)
    return name, seconds, status


def main(argv: list[str]) -> int:
    profiles = argv[1:] or ci_profiles()
    pytest = ["bash", str(ROOT / "tools" / "pytest")]
    results = [run_part("lint (ruff, format, mypy)", ["make", "--no-print-directory", "lint"], profiles[0])]
    results += [run_part("unit and integration", [*pytest, "tests/unit", "tests/integration"], profiles[0])]
    results += [run_part(f"end-to-end, profile {profile}", [*pytest, "tests/e2e"], profile) for profile in profiles]
    print("\n=== summary ===")
    for name, seconds, status in results:
        print(f"  {name:<40} {'passed' if status == 0 else 'FAILED':<7} {seconds:6.0f} s")
    print(f"  {'total':<40} {'':<7} {sum(seconds for _, seconds, _ in results):6.0f} s", flush=True)
    return 0 if all(status == 0 for _, _, status in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
