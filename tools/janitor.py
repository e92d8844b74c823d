"""Run servicekit's stream janitor against the profile's redis-server, sweeping every interval.

    python -m tools.janitor --port 6379 --interval 300 [--keep-seconds 3600] [--once]

Each sweep trims a stream only below what every consumer group acknowledged (servicekit.stream_janitor),
expecting on each topic a group per app that subscribes to it: Dapr names a subscriber's group after its
app id, and the topics are those the declared subscriptions (components/common/subscriptions.yaml) give
each app of dapr.yaml.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import coredis
import yaml
from coredis.exceptions import RedisError
from coredis.response.types import StreamPending
from coredis.tokens import PureToken

from servicekit.stream_janitor import Group, sweep
from tools.subscriptions import subscribed_topics

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("tools.janitor")


class RedisStreamAdmin:
    """`StreamAdmin` over one redis-server (XINFO GROUPS, XPENDING, XTRIM MINID, SCAN TYPE stream)."""

    def __init__(self, client: coredis.Redis[str]) -> None:
        self.client = client

    @classmethod
    def connect(cls, port: int, host: str = "127.0.0.1") -> RedisStreamAdmin:
        return cls(coredis.Redis(host=host, port=port, decode_responses=True))

    def close(self) -> None:
        self.client.connection_pool.disconnect()

    async def streams(self) -> list[str]:
        return sorted({key async for key in self.client.scan_iter(type_="stream")})

    async def groups(self, stream: str) -> list[Group]:
        rows = await self.client.xinfo_groups(stream)
        return [Group(str(row["name"]), str(row["last-delivered-id"]), int(row["pending"])) for row in rows]

    async def oldest_pending(self, stream: str, group: str) -> str | None:
        summary = await self.client.xpending(stream, group)
        if not isinstance(summary, StreamPending) or summary.pending == 0:
            return None
        return str(summary.minimum_identifier)

    async def trim_below(self, stream: str, min_id: str) -> int:
        # coredis types the threshold as an int (MAXLEN); MINID takes a whole entry id.
        return await self.client.xtrim(stream, PureToken.MINID, min_id)  # type: ignore[arg-type]


def run_file_apps(run_file: Path = ROOT / "dapr.yaml") -> list[str]:
    return [str(app["appID"]) for app in yaml.safe_load(run_file.read_text())["apps"]]


def expected_groups(app_ids: Sequence[str]) -> dict[str, list[str]]:
    """Per topic, the consumer groups it must have: one per subscribing app, named by its app id."""
    groups: dict[str, list[str]] = {}
    for app_id in app_ids:
        for topic in subscribed_topics(app_id):
            groups.setdefault(topic, []).append(app_id)
    return groups


async def sweep_once(admin: RedisStreamAdmin, expected: dict[str, list[str]], keep_seconds: float) -> int:
    """One sweep; log each stream's outcome and return how many entries went."""
    reports = await sweep(admin, expected_groups=expected, keep_seconds=keep_seconds)
    for report in reports:
        if report.below is None:
            log.info("%s left alone: %s", report.stream, report.reason)
        else:
            log.info("%s trimmed below %s: %d entries removed", report.stream, report.below, report.removed)
    removed = sum(report.removed for report in reports)
    log.info("sweep done: %d streams, %d entries removed", len(reports), removed)
    return removed


async def run(*, port: int, host: str, interval: float, keep_seconds: float, once: bool) -> None:
    """Sweep every `interval` seconds, the first one an interval in (never while the apps start), or once now."""
    if not once:
        log.info("sweeping %s:%d every %.0fs, keeping entries younger than %.0fs", host, port, interval, keep_seconds)
        await asyncio.sleep(interval)
    expected = expected_groups(run_file_apps())
    admin = RedisStreamAdmin.connect(port, host)
    try:
        while True:
            try:
                await sweep_once(admin, expected, keep_seconds)
            except (RedisError, OSError) as exc:  # the broker may be down or restarting
                log.warning("sweep failed, next in %.0fs: %s", interval, exc)
            if once:
                return
            await asyncio.sleep(interval)
    finally:
        admin.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.janitor", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--interval", type=float, default=300.0, help="seconds between sweeps")
    parser.add_argument("--keep-seconds", type=float, default=3600.0, help="never trim entries younger than this")
    parser.add_argument("--once", action="store_true", help="sweep once and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    asyncio.run(
        run(port=args.port, host=args.host, interval=args.interval, keep_seconds=args.keep_seconds, once=args.once)
    )


if __name__ == "__main__":
    main()
