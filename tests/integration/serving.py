"""Start an app the way its `__main__` does (servicekit.serve) in a child Python, for tests of the server itself."""

from __future__ import annotations

import os
import subprocess
import sys


def serve_in_child(factory: str, port: int) -> subprocess.Popen[bytes]:
    """`serve(factory)` on 127.0.0.1:`port` in a new process; the caller waits for it and stops it."""
    code = f"from servicekit.serve import serve; serve({factory!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "APP_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
