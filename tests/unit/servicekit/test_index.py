"""PagedIndex: an insert writes one page and the head; listings page through either way, under contention."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.conflicts import retry_on_conflict
from servicekit.index import PagedIndex
from tests.unit.fakes import FakeSidecar

pytestmark = pytest.mark.anyio


async def add(index: PagedIndex, sidecar: FakeSidecar, item_id: str) -> None:
    async def attempt() -> None:
        await sidecar.transact([*await index.append(item_id)])

    await retry_on_conflict(attempt)


async def filled(n: int, *, page: int = 3) -> tuple[FakeSidecar, PagedIndex]:
    sidecar = FakeSidecar()
    index = PagedIndex(sidecar, "things-index", page=page)
    for i in range(n):
        await add(index, sidecar, f"t{i}")
    return sidecar, index


@pytest.mark.parametrize(("offset", "limit"), [(0, 10), (0, 3), (2, 4), (5, 2), (9, 5), (10, 1), (3, 0)])
async def test_slices_match_a_plain_list_both_ways(offset: int, limit: int) -> None:
    _, index = await filled(10)
    every = [f"t{i}" for i in range(10)]
    oldest = await index.slice(offset=offset, limit=limit)
    newest = await index.slice(offset=offset, limit=limit, newest_first=True)
    assert (oldest.ids, oldest.total) == (every[offset : offset + limit], 10)
    assert (newest.ids, newest.total) == (list(reversed(every))[offset : offset + limit], 10)


async def test_an_insert_rewrites_only_its_page_and_the_head() -> None:
    sidecar, index = await filled(7)
    before = dict(sidecar.state)
    ops = await index.append("t7")
    assert sorted(op.key for op in ops) == ["things-index:head", "things-index:page:2"]
    assert all(len(op.value.get("ids", [])) <= 3 for op in ops)
    assert sidecar.state == before  # nothing written until the caller commits


async def test_concurrent_inserts_all_land_once() -> None:
    sidecar = FakeSidecar()
    index = PagedIndex(sidecar, "things-index", page=4)
    await asyncio.gather(*(add(index, sidecar, f"t{i}") for i in range(30)))
    every = await index.every()
    assert sorted(every) == sorted(f"t{i}" for i in range(30))
    assert len(every) == 30


async def test_a_legacy_one_key_index_is_read_then_moved_into_pages_on_the_first_insert() -> None:
    sidecar = FakeSidecar()
    await sidecar.save_state("things-old", {"ids": ["a", "b", "c", "d"]})
    index = PagedIndex(sidecar, "things-index", legacy_key="things-old", page=3)
    assert (await index.slice(offset=1, limit=2, newest_first=True)).ids == ["c", "b"]
    await add(index, sidecar, "e")
    assert ("statestore", "things-old") not in sidecar.state
    assert await index.every() == ["a", "b", "c", "d", "e"]
    await add(index, sidecar, "f")
    assert (await index.slice(offset=0, limit=2, newest_first=True)).ids == ["f", "e"]


async def test_an_empty_index_lists_nothing() -> None:
    index = PagedIndex(FakeSidecar(), "things-index")
    assert (await index.slice(offset=0, limit=5)).total == 0
    assert await index.every() == []
