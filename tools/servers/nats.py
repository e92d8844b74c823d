"""nats-server with JetStream, built once from the Go module proxy, and the streams pubsub.jetstream needs.

Dapr's pubsub.jetstream never creates a stream, and names one durable consumer per component
(`durableName`), so each topic gets a stream of its own: a durable named after the app id is then one
consumer per (topic, app). The topics are every one the profile's pub/sub component names in its scopes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import yaml

from tools.servers.processes import ROOT, wait_started

VERSION = "2.15.2"
MODULE = "github.com/nats-io/nats-server/v2"
MODULE_SUM = "h1:yLsgt2kslgymvxvjFq1WGWck5hkat2YYfbXvQ145tzU="
"""The module's hash as the proxy served it on 2026-12-01 (the checksum database is not reachable here)."""
BIN = ROOT / ".dapr" / "bin" / "nats"
BINARY = BIN / "nats-server"
SCOPES = ("publishingScopes", "subscriptionScopes", "protectedTopics")
STREAM_MAX_AGE_SECONDS = 24 * 3600
"""How long an event stays in its stream, acknowledged or not: a subscriber down longer loses the oldest."""
NO_SOURCE = "junction_none"
"""An empty stream every topic's stream sources: a stream that sources another keeps a duplicate window
of 0 (no deduplication) instead of the server's 2-minute default, and 100 ms is the least it allows
otherwise. The component makes each CloudEvent id a Nats-MsgId, but one id rightly travels again (an
operator's second replay, the dead letter of a replay that failed too): consumers deduplicate, not streams."""
CONFIG = """# Written by tools/servers/nats.py on each start; the command line names the store folder and ports.
jetstream {
  max_memory_store: 64MB
  max_file_store: 1GB
  # fsync every write before the publish is acknowledged (the default syncs every 2 minutes).
  sync_interval: always
}
"""


def topics(profile: str = "nats") -> list[str]:
    """Every topic the profile's pub/sub component lets an app publish or subscribe, or protects."""
    pubsub = yaml.safe_load((ROOT / "components" / profile / "pubsub.yaml").read_text())
    found: set[str] = set()
    for entry in pubsub["spec"]["metadata"]:
        if entry["name"] in SCOPES:
            for scope in str(entry["value"]).replace(" ", "").replace("\n", "").split(";"):
                found.update(topic for topic in scope.rpartition("=")[2].split(",") if topic)
    return sorted(found)


def stream_name(topic: str) -> str:
    return topic.replace(".", "_")


def _go_env() -> dict[str, str]:
    proxy = subprocess.run(["go", "env", "GOPROXY"], capture_output=True, text=True, check=True).stdout.strip()
    proxies = [p for p in proxy.replace("|", ",").split(",") if p and p not in ("direct", "off")]
    if not proxies:
        raise SystemExit("[servers] no Go module proxy is configured (GOPROXY): nats-server cannot be built")
    # The module proxy only, never version control hosts; the pinned module hash (and its go.sum) vouch.
    return {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod",
            "GOPROXY": ",".join(proxies), "GOSUMDB": "off", "GOBIN": str(BIN)}  # fmt: skip


def ensure_binary() -> Path:
    """Build nats-server once from the Go module proxy into .dapr/bin/nats/ (about a minute cold)."""
    if BINARY.exists() and VERSION in subprocess.run([BINARY, "--version"], capture_output=True, text=True).stdout:
        return BINARY
    print(f"[servers] building nats-server {VERSION} from the Go module proxy (once, about a minute) ...", flush=True)
    try:
        env = _go_env()
        info = subprocess.run(["go", "mod", "download", "-json", f"{MODULE}@v{VERSION}"],
                              capture_output=True, text=True, env=env, cwd="/", check=True)  # fmt: skip
    except FileNotFoundError:
        raise SystemExit("[servers] Go is missing: install Go 1.26 or newer to build nats-server") from None
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"[servers] the Go module proxy did not serve {MODULE}@v{VERSION}:\n{error.stderr}") from None
    if (found := json.loads(info.stdout).get("Sum")) != MODULE_SUM:
        raise SystemExit(f"[servers] {MODULE}@v{VERSION} has hash {found}, expected {MODULE_SUM}")
    BIN.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(["go", "install", f"{MODULE}@v{VERSION}"], env=env, cwd="/", capture_output=True, text=True)
    if built.returncode != 0 or not BINARY.exists():
        raise SystemExit(f"[servers] building nats-server {VERSION} failed:\n{built.stderr}")
    return BINARY


def nats_answers(port: int) -> bool:
    """Whether a nats-server with JetStream answers its health check on the monitor port (port + 1)."""
    try:
        url = f"http://127.0.0.1:{port + 1}/healthz?js-enabled-only=true"
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


async def _ensure_streams(port: int, names: list[str]) -> None:
    import nats
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamSource
    from nats.js.errors import BadRequestError

    client = await nats.connect(f"nats://127.0.0.1:{port}", connect_timeout=2, max_reconnect_attempts=0)
    try:
        stream = client.jetstream()
        configs = [StreamConfig(name=NO_SOURCE, subjects=[f"junction.{NO_SOURCE}"], storage=StorageType.FILE)]
        configs += [
            StreamConfig(
                name=stream_name(topic),
                subjects=[topic],
                storage=StorageType.FILE,
                # Limits, not interest: an event published before a subscriber's consumer exists stays
                # for it (a durable consumer starts at the stream's first message, deliverPolicy all).
                retention=RetentionPolicy.LIMITS,
                discard=DiscardPolicy.OLD,
                max_age=STREAM_MAX_AGE_SECONDS,
                sources=[StreamSource(name=NO_SOURCE)],
                num_replicas=1,
            )
            for topic in names
        ]
        for config in configs:
            try:
                await stream.add_stream(config)
            except BadRequestError:  # it exists with other settings (an older checkout's): take these
                await stream.update_stream(config)
    finally:
        await client.close()


def ensure_streams(port: int, profile: str = "nats") -> None:
    asyncio.run(_ensure_streams(port, topics(profile)))


def start_nats(port: int, data_dir: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start nats-server -js on 127.0.0.1:port (monitor on port + 1); wait until JetStream is healthy."""
    binary = ensure_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    config = data_dir / "nats-server.conf"
    config.write_text(CONFIG)
    store = str(data_dir / "jetstream")
    ports = ["-a", "127.0.0.1", "-p", str(port), "-m", str(port + 1)]
    command = [str(binary), "-c", str(config), "-js", "-sd", store, *ports]
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    failure = f"nats-server did not start on 127.0.0.1:{port}"
    wait_started(
        process, lambda: nats_answers(port), failure=failure, log_file=log_file, timeout_seconds=15, poll_seconds=0.05
    )
    ensure_streams(port)
    return process


def nats_ready(port: int) -> bool:
    """Whether it answers; a server `make run` reuses gets any stream it lacks, too."""
    if not nats_answers(port):
        return False
    ensure_streams(port)
    return True
