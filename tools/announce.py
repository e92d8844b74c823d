"""Wait for the gateway after `make run` starts and print where everything is."""

from __future__ import annotations

import sys
import time

import httpx

from tools.servers import load_profile
from tools.servers.jaeger import query_url

GATEWAY = "http://127.0.0.1:8080"


def main(profile: str = "local", *, timeout_seconds: float = 120) -> None:
    traces = query_url(load_profile(profile).servers["jaeger"])
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{GATEWAY}/api/v1/health", timeout=1).status_code == 200:
                print(
                    f"\n  Junction is up.\n  Gateway:  {GATEWAY}/api/v1\n"
                    f"  Operator: {GATEWAY}/ui (the operator page: sign in as the admin)\n  API docs: {GATEWAY}/docs\n"
                    f"  Traces:   {traces} (Jaeger: every sidecar's and app's spans)\n"
                    "  Admin:    admin@junction.local / junction-admin (development only)\n"
                    "  Metrics:  http://127.0.0.1:9200/metrics (the gateway; each app's METRICS_PORT in dapr.yaml)\n"
                    "  Logs:     .dapr/logs/\n  Stop:     Ctrl-C\n",
                    flush=True,
                )
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    print(f"\n  The gateway did not answer within {timeout_seconds:.0f}s: see .dapr/logs/\n", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "local")
