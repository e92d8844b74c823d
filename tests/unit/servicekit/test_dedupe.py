"""Applied-event markers: once per event id whatever came after it, until the dedupe horizon."""

from __future__ import annotations

import pytest

from servicekit.dedupe import applied_marker, marker_key, was_applied
from servicekit.horizons import DEDUPE_HORIZON_SECONDS, REPLAY_HORIZON_SECONDS
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
    assert await was_applied(sidecar, "e-1")
    now[0] += 2
    assert not await was_applied(sidecar, "e-1")
    await sidecar.transact([applied_marker("e-1")])  # gone for good: insert-only succeeds again
