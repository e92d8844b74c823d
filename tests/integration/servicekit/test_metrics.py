"""servicekit.metrics on real adapters: the metrics server on a loopback port, the SQL outbox's backlog on
SQLite, a breaker's refusal told apart on a real gRPC channel."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc import aio
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from servicekit import DependencyUnavailable, RateLimited, new_event
from servicekit.grpc_client import MeshChannel
from servicekit.grpc_errors import CODE_KEY
from servicekit.metrics import serve_metrics
from servicekit.outbox import OutboxRelay, outbox_table, record_event
from tests.unit.fakes import FakeSidecar
from tests.unit.servicekit.helpers import sample

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_the_metrics_are_served_on_their_own_loopback_port_while_the_block_runs() -> None:
    port = free_port()
    async with serve_metrics(port), httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        assert "# TYPE junction_http_requests_total counter" in response.text
        assert "process_cpu_seconds_total" in response.text  # prometheus_client's own, beside ours
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stopped with the block


async def test_no_port_no_server() -> None:
    async with serve_metrics(None):
        pass


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    table = outbox_table(MetaData())
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
        yield engine, table
    finally:
        await engine.dispose()


async def staged(engine: AsyncEngine, table: Table, count: int) -> None:
    for n in range(count):
        async with engine.begin() as connection:
            await record_event(connection, table, "thing.happened", new_event({"n": n}))


@pytest.mark.parametrize("batch", [100, 2])
async def test_the_sql_outbox_backlog_is_what_a_stalled_pass_left_and_nothing_once_it_went_out(
    engine: tuple[AsyncEngine, Table], batch: int
) -> None:
    """A batch smaller than the backlog (2 of 3) stalls full: the relay counts the rest, as the metric says."""
    db, table = engine
    began = datetime.now(UTC)
    await staged(db, table, 3)
    sidecar = FakeSidecar()
    relay = OutboxRelay(engine=db, table=table, sidecar=sidecar, batch=batch)
    sidecar.broker_down = True
    with pytest.raises(DependencyUnavailable):
        await relay.relay_pass(kicked=True)
    pending, oldest = relay.backlog.seen
    assert pending == 3 and oldest is not None
    assert began - timedelta(seconds=1) <= datetime.fromtimestamp(oldest, UTC) <= datetime.now(UTC)
    sidecar.broker_down = False
    await relay.relay_pass(kicked=True)
    assert relay.backlog.seen == (0, None) and len(sidecar.published) == 3


async def refuse(request: bytes, context: aio.ServicerContext[Any, Any]) -> bytes:
    """What daprd answers for a peer whose breaker is open (UNKNOWN, gobreaker's message), or the app's own refusal."""
    if request == b"app":
        context.set_trailing_metadata(((CODE_KEY, "RATE_LIMITED"),))
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many requests")
    await context.abort(grpc.StatusCode.UNKNOWN, "circuit breaker is open")
    raise AssertionError("abort raises")


async def test_a_grpc_call_refused_by_the_peers_open_breaker_is_counted_an_apps_own_refusal_is_not() -> None:
    server = aio.server()
    handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(refuse)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Peer", {"Call": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    peer = f"peer-{uuid.uuid4().hex[:8]}"
    mesh = MeshChannel.open(grpc_port=port, api_token=None, deadline_seconds=5)
    try:
        call: aio.UnaryUnaryMultiCallable[bytes, bytes] = mesh.channel.unary_unary("/test.Peer/Call")
        with pytest.raises(DependencyUnavailable):
            await mesh.call(call, b"breaker", app_id=peer)
        with pytest.raises(RateLimited):
            await mesh.call(call, b"app", app_id=peer)
    finally:
        await mesh.aclose()
        await server.stop(None)
    assert sample("junction_breaker_refusals_total", peer=peer) == 1
