"""Jaeger, the trace backend every sidecar and app exports spans to over OTLP (tools/jaeger/install builds it).

Jaeger v2 (cmd/jaeger) is an OpenTelemetry collector: the file below keeps only what Junction uses, all
on 127.0.0.1 and on consecutive ports from one base port, so two stacks on one machine never meet:

    base      the query service: the UI and its HTTP API (/api/services, /api/traces)
    base + 1  OTLP over gRPC (Dapr's `tracing.otel` and the apps' OTEL_EXPORTER_OTLP_ENDPOINT)
    base + 2  OTLP over HTTP

The query service's own gRPC API takes a port the kernel picks on loopback (nothing here calls it), and the
collector's metrics (8888 by default), health check, zpages, expvar, remote sampling and the Jaeger and
Zipkin receivers are left out. Traces live in memory, the newest MAX_TRACES of them.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

from tools.servers.processes import LOOPBACK, ROOT, port_open, wait_started

BINARY = ROOT / ".dapr" / "bin" / "jaeger"
INSTALL = ROOT / "tools" / "jaeger" / "install"
PORTS = 3
MAX_TRACES = 10_000
"""Enough to follow the last few thousand orders; each trace costs kilobytes, so memory stays in the hundreds of MB."""


def config(port: int, host: str = LOOPBACK) -> str:
    """The collector's configuration for a Jaeger on `port` (the query service) and the two after it.

    docker-compose.yml carries the same, on every interface of its network (tests/unit/deploy).
    """
    return f"""# Written by tools/servers/jaeger.py on each start.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    traces:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: {MAX_TRACES}
  jaeger_query:
    storage:
      traces: memory_store
    enable_tracing: false
    http:
      endpoint: {host}:{port}
    grpc:
      endpoint: {host}:0
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {host}:{port + 1}
      http:
        endpoint: {host}:{port + 2}
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
"""


def query_url(port: int, host: str = LOOPBACK) -> str:
    """The UI and its HTTP API of the Jaeger whose base port is `port`."""
    return f"http://{host}:{port}"


def jaeger_answers(port: int, host: str = LOOPBACK) -> bool:
    """Whether a Jaeger query service answers on `port` and its OTLP receivers listen on the next two."""
    try:
        with urllib.request.urlopen(f"{query_url(port, host)}/api/services", timeout=1) as answer:  # noqa: S310 - http
            if "data" not in json.loads(answer.read()):
                return False
    except (OSError, ValueError):
        return False
    return all(port_open(p, host) for p in range(port + 1, port + PORTS))


def ensure_binary() -> Path:
    """Build Jaeger once when it is missing (make setup does it beforehand)."""
    if not BINARY.exists():
        subprocess.run(["bash", str(INSTALL)], check=True)
    return BINARY


def start_jaeger(port: int, data_dir: Path, log_file: Path, host: str = LOOPBACK) -> subprocess.Popen[bytes]:
    """Start Jaeger on host:port..port+2 (127.0.0.1 unless told) in its own process group; wait until it takes
    spans and queries."""
    binary = ensure_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    config_file = data_dir / "jaeger.yaml"
    config_file.write_text(config(port, host))
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [str(binary), "--config", f"file:{config_file}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    failure = f"jaeger did not start on {host}:{port}"
    wait_started(process, lambda: jaeger_answers(port, host), failure=failure, log_file=log_file, timeout_seconds=30)
    return process
