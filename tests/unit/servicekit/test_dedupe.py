"""Applied-event markers: once per event id whatever came after it, until the dedupe horizon."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from servicekit.dedupe import applied_marker, marker_key, read_with_marker
from servicekit.horizons import DEDUPE_HORIZON_SECONDS, REPLAY_HORIZON_SECONDS
from servicekit.sidecar import StateItem, StateOp
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


def test_the_horizon_outlives_every_replay_admin_allows() -> None:
    assert DEDUPE_HORIZON_SECONDS > REPLAY_HORIZON_SECONDS


def test_a_marker_is_insert_only_with_the_horizon_as_ttl() -> None:
    op = applied_marker("e-1")
    assert (op.key, op.insert_only, op.ttl_seconds) == ("applied:e-1", True, DEDUPE_HORIZON_SECONDS)


def test_an_odd_event_id_is_hashed_into_the_key() -> None:
    assert marker_key("a||b").startswith("applied:sha256-")
    assert marker_key("a||b") != marker_key("a||c")
    assert marker_key("abc\n").startswith("applied:sha256-")  # a last newline is not plain


async def test_a_marker_is_remembered_until_its_ttl_runs_out() -> None:
    now = [1000.0]
    sidecar = FakeSidecar()
    sidecar.clock = lambda: now[0]

    await sidecar.transact([applied_marker("e-1")])
    now[0] += DEDUPE_HORIZON_SECONDS - 1
    assert await read_with_marker(sidecar, "doc", "e-1") == (None, True)
    now[0] += 2
    assert await read_with_marker(sidecar, "doc", "e-1") == (None, False)
    await sidecar.transact([applied_marker("e-1")])  # gone for good: insert-only succeeds again


async def test_the_document_and_its_marker_come_back_from_one_read() -> None:
    sidecar = FakeSidecar()
    await sidecar.transact([StateOp("inbox:u-1", {"items": [1]}), applied_marker("e-1")])
    bulk_reads: list[list[str]] = []
    read_bulk = sidecar.get_bulk_state

    async def counted(keys: Sequence[str], *, store: str | None = None) -> dict[str, StateItem]:
        bulk_reads.append(list(keys))
        return await read_bulk(keys, store=store)

    sidecar.get_bulk_state = counted  # type: ignore[method-assign]
    item, applied = await read_with_marker(sidecar, "inbox:u-1", "e-1")
    assert item is not None and item.value == {"items": [1]} and applied
    assert await read_with_marker(sidecar, "inbox:u-1", "e-2") == (item, False)
    assert bulk_reads == [["inbox:u-1", "applied:e-1"], ["inbox:u-1", "applied:e-2"]]
