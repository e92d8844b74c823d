"""What an app holds before it serves anything: the resident memory of a fresh interpreter that imported it.

`python -c "import apps.<app>.main"` (the app's composition root, so every module it serves with) in a process
of its own, read from its /proc/self/status: the floor under the app's memory after the benchmark.
"""

from __future__ import annotations

import subprocess
import sys

from tools.stack.stack import ROOT

READ_RSS = (
    "import importlib, re, sys; importlib.import_module(sys.argv[1]); "
    "print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
)


def rss_at_import_mib(app_id: str) -> float | None:
    """Resident MiB of a fresh interpreter once `apps.<app_id>.main` is imported; None if the import failed."""
    done = subprocess.run(
        [sys.executable, "-c", READ_RSS, f"apps.{app_id}.main"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return int(done.stdout.strip()) / 1024 if done.returncode == 0 and done.stdout.strip().isdigit() else None
