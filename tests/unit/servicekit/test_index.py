"""PagedIndex: an insert writes one page and the head; listings page through either way, under contention."""

from __future__ import annotations

import asyncio

import pytest

from servicekit.conflicts import retry_on_conflict
from servicekit.index import PagedIndex
from tests.unit.fakes import FakeSidecar


async def add(index: PagedIndex, sidecar: FakeSidecar, item_id: str) -> None:
    async def attempt() -> None:
        await sidecar.transact([*await index.append(item_id)])

    await retry_on_conflict(attempt)


def filled(n: int, *, page: int = 3) -> tuple[FakeSidecar, PagedIndex]:
    sidecar = FakeSidecar()
    index = PagedIndex(sidecar, "things-index", page=page)

    async def fill() -> None:
        for i in range(n):
            await add(index, sidecar, f"t{i}")

    asyncio.run(fill())
    return sidecar, index


@pytest.mark.parametrize(("offset", "limit"), [(0, 10), (0, 3), (2, 4), (5, 2), (9, 5), (10, 1), (3, 0)])
def test_slices_match_a_plain_list_both_ways(offset: int, limit: int) -> None:
    _, index = filled(10)
    every = [f"t{i}" for i in range(10)]
    oldest = asyncio.run(index.slice(offset=offset, limit=limit))
    newest = asyncio.run(index.slice(offset=offset, limit=limit, newest_first=True))
    assert (oldest.ids, oldest.total) == (every[offset : offset + limit], 10)
    assert (newest.ids, newest.total) == (list(reversed(every))[offset : offset + limit], 10)


def test_an_insert_rewrites_only_its_page_and_the_head() -> None:
    sidecar, index = filled(7)
    before = dict(sidecar.state)
    ops = asyncio.run(index.append("t7"))
    assert sorted(op.key for op in ops) == ["things-index:head", "things-index:page:2"]
    assert all(len(op.value.get("ids", [])) <= 3 for op in ops)
    assert sidecar.state == before  # nothing written until the caller commits


def test_concurrent_inserts_all_land_once() -> None:
    sidecar = FakeSidecar()
    index = PagedIndex(sidecar, "things-index", page=4)

    async def all_at_once() -> None:
        await asyncio.gather(*(add(index, sidecar, f"t{i}") for i in range(30)))

    asyncio.run(all_at_once())
    every = asyncio.run(index.every())
    assert sorted(every) == sorted(f"t{i}" for i in range(30))
    assert len(every) == 30


def test_a_legacy_one_key_index_is_read_then_moved_into_pages_on_the_first_insert() -> None:
    sidecar = FakeSidecar()
    asyncio.run(sidecar.save_state("things-old", {"ids": ["a", "b", "c", "d"]}))
    index = PagedIndex(sidecar, "things-index", legacy_key="things-old", page=3)
    assert asyncio.run(index.slice(offset=1, limit=2, newest_first=True)).ids == ["c", "b"]
    asyncio.run(add(index, sidecar, "e"))
    assert ("statestore", "things-old") not in sidecar.state
    assert asyncio.run(index.every()) == ["a", "b", "c", "d", "e"]
    asyncio.run(add(index, sidecar, "f"))
    assert asyncio.run(index.slice(offset=0, limit=2, newest_first=True)).ids == ["f", "e"]


def test_an_empty_index_lists_nothing() -> None:
    index = PagedIndex(FakeSidecar(), "things-index")
    assert asyncio.run(index.slice(offset=0, limit=5)).total == 0
    assert asyncio.run(index.every()) == []
