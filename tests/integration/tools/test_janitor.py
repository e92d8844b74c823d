"""The janitor's Redis adapter, on a throwaway redis-server: only entries every group acknowledged go."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator

import pytest

from servicekit.stream_janitor import Group, sweep
from tools.janitor import RedisStreamAdmin, expected_groups, run, run_file_apps
from tools.servers import start_redis
from tools.stack.processes import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = start_redis(port, folder / "data", folder / "redis.log")
    try:
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
async def admin(redis_port: int) -> AsyncIterator[RedisStreamAdmin]:
    """The janitor's adapter on the throwaway server, its database emptied first."""
    admin = RedisStreamAdmin.connect(redis_port)
    try:
        await admin.client.flushdb()
        yield admin
    finally:
        admin.close()


async def publish(admin: RedisStreamAdmin, stream: str, n: int) -> list[str]:
    return [str(await admin.client.xadd(stream, {"data": str(i)})) for i in range(n)]


async def read(admin: RedisStreamAdmin, stream: str, group: str, count: int) -> list[str]:
    """XREADGROUP `count` new entries for `group` (created reading from 0, as Dapr creates its groups)."""
    await admin.client.xgroup_create(stream, group, "0")
    delivered = await admin.client.xreadgroup(group, "consumer-1", {stream: ">"}, count=count)
    return [str(entry.identifier) for entry in (delivered or {})[stream]]


async def test_only_acknowledged_entries_are_trimmed_and_unacked_ones_remain(admin: RedisStreamAdmin) -> None:
    ids = await publish(admin, "order.created", 5)
    delivered = await read(admin, "order.created", "payments", 3)
    assert delivered == ids[:3]
    assert await admin.client.xack("order.created", "payments", tuple(ids[:2])) == 2

    assert await admin.streams() == ["order.created"]
    assert await admin.groups("order.created") == [Group("payments", ids[2], 1)]
    assert await admin.oldest_pending("order.created", "payments") == ids[2]

    [report] = await sweep(admin, expected_groups={"order.created": ["payments"]}, keep_seconds=0)
    assert (report.below, report.removed) == (ids[2], 2)
    left = await admin.client.xrange("order.created")
    assert [str(entry.identifier) for entry in left] == ids[2:]  # one pending, two never read


async def test_a_group_with_nothing_pending_keeps_what_it_has_not_read(admin: RedisStreamAdmin) -> None:
    ids = await publish(admin, "payment.succeeded", 4)
    await read(admin, "payment.succeeded", "orders", 2)
    await admin.client.xack("payment.succeeded", "orders", tuple(ids[:2]))
    assert await admin.oldest_pending("payment.succeeded", "orders") is None

    [report] = await sweep(admin, keep_seconds=0)
    assert report.removed == 2
    assert await admin.client.xlen("payment.succeeded") == 2


async def test_a_stream_missing_an_expected_group_and_keys_of_other_types_are_left_alone(
    admin: RedisStreamAdmin,
) -> None:
    ids = await publish(admin, "order.created", 3)
    await read(admin, "order.created", "payments", 3)
    await admin.client.xack("order.created", "payments", tuple(ids))
    await admin.client.set("not-a-stream", "x")

    expected = {"order.created": ["payments", "analytics"]}  # analytics has not subscribed yet
    [report] = await sweep(admin, expected_groups=expected, keep_seconds=0)
    assert (report.stream, report.below, report.removed) == ("order.created", None, 0)
    assert await admin.client.xlen("order.created") == 3


async def test_a_sweep_logs_what_it_trimmed(
    admin: RedisStreamAdmin, redis_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await publish(admin, "user.registered", 2)
    for group in ("notifications", "analytics", "gateway"):  # every subscriber of user.registered
        await read(admin, "user.registered", group, 2)
        await admin.client.xack("user.registered", group, tuple(ids))
    with caplog.at_level(logging.INFO, logger="tools.janitor"):
        await run(port=redis_port, host="127.0.0.1", interval=0, keep_seconds=0, once=True)
    assert "user.registered trimmed below" in caplog.text
    assert "2 entries removed" in caplog.text


def test_expected_groups_are_the_subscribing_apps_of_the_run_file() -> None:
    groups = expected_groups(run_file_apps())
    assert set(groups["order.created"]) == {"payments", "notifications", "analytics", "gateway"}
    assert set(groups["payment.succeeded"]) >= {"orders"}
    assert groups["deadletters.identity"] == groups["deadletters.catalog"] == ["admin"]
