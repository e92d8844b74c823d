"""Wait for the gateway after `make run` starts and print where everything is."""

from __future__ import annotations

import time

import httpx

GATEWAY = "http://127.0.0.1:8080"


def main(timeout_seconds: float = 120) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{GATEWAY}/api/v1/health", timeout=1).status_code == 200:
                print(
                    f"\n  Junction is up.\n  Gateway:  {GATEWAY}/api/v1\n  API docs: {GATEWAY}/docs\n"
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
    main()
