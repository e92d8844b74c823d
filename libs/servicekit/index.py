"""An append-only list of ids in Dapr state that an insert changes by one small page, not by all of it.

    {name}:head        {"count": n}: how many ids there are, guarded by its ETag (serialises inserts)
    {name}:page:{k}    {"ids": [...]}: ids k*PAGE .. k*PAGE+PAGE-1, in insertion order

An insert reads the head and the last page and returns the operations that write both, for the
caller's own transaction (with the item itself), so the item and its place in the list commit together;
a concurrent insert clashes on the head's ETag and is redone (retry_on_conflict). A page of a listing
reads the head, then only the pages it covers. The state.sqlite store has no query API, so a listing
cannot be asked of the store itself. A list kept by the former one-key index (`{"ids": [...]}` under
`legacy_key`) is read as it is until the first insert, which moves it into pages in the same transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from servicekit.sidecar import SidecarClient, StateItem, StateOp

PAGE = 200


@dataclass(frozen=True)
class IndexSlice:
    ids: list[str]
    total: int


class PagedIndex:
    def __init__(self, sidecar: SidecarClient, name: str, *, legacy_key: str | None = None, page: int = PAGE) -> None:
        self.sidecar = sidecar
        self.name = name
        self.legacy_key = legacy_key
        self.page = page

    def _page_key(self, number: int) -> str:
        return f"{self.name}:page:{number}"

    async def _legacy(self) -> StateItem | None:
        return None if self.legacy_key is None else await self.sidecar.get_state(self.legacy_key)

    async def append(self, item_id: str) -> list[StateOp]:
        """The operations that add an id at the end; include them in the transaction that writes the item."""
        head = await self.sidecar.get_state(f"{self.name}:head")
        if head is None:
            legacy = await self._legacy()
            if legacy is not None:
                return self._moved(list(legacy.value.get("ids", [])), item_id, legacy.etag)
            return [
                StateOp(f"{self.name}:head", {"count": 1}, insert_only=True),
                StateOp(self._page_key(0), {"ids": [item_id]}, insert_only=True),
            ]
        count = int(head.value["count"])
        number = count // self.page
        current = await self.sidecar.get_state(self._page_key(number)) if count % self.page else None
        ids = list(current.value["ids"])[: count % self.page] if current else []
        return [
            StateOp(f"{self.name}:head", {"count": count + 1}, etag=head.etag),
            StateOp(
                self._page_key(number),
                {"ids": [*ids, item_id]},
                etag=current.etag if current else None,
                insert_only=current is None,
            ),
        ]

    def _moved(self, ids: list[str], item_id: str, legacy_etag: str | None) -> list[StateOp]:
        every = [*ids, item_id]
        pages = [every[start : start + self.page] for start in range(0, len(every), self.page)]
        return [
            StateOp(f"{self.name}:head", {"count": len(every)}, insert_only=True),
            *(StateOp(self._page_key(n), {"ids": chunk}) for n, chunk in enumerate(pages)),
            StateOp(str(self.legacy_key), delete=True, etag=legacy_etag),
        ]

    async def slice(self, *, offset: int, limit: int, newest_first: bool = False) -> IndexSlice:
        """`limit` ids from `offset`, oldest first (or newest first), and how many there are in all."""
        head = await self.sidecar.get_state(f"{self.name}:head")
        if head is None:
            legacy = await self._legacy()
            ids = list(legacy.value.get("ids", [])) if legacy else []
            ordered = list(reversed(ids)) if newest_first else ids
            return IndexSlice(ordered[offset : offset + limit], len(ids))
        count = int(head.value["count"])
        if newest_first:
            last, first = count - 1 - offset, max(count - offset - limit, 0)
        else:
            first, last = offset, min(offset + limit, count) - 1
        if limit <= 0 or first > last or last < 0:
            return IndexSlice([], count)
        numbers = range(first // self.page, last // self.page + 1)
        pages = await asyncio.gather(*(self.sidecar.get_state(self._page_key(n)) for n in numbers))
        window: list[str] = []
        for page in pages:  # a page written after the head was read may hold ids past `count`: cut them off
            window += list(page.value["ids"]) if page else []
        start = first - numbers[0] * self.page
        ids = window[start : start + last - first + 1]
        return IndexSlice(list(reversed(ids)) if newest_first else ids, count)

    async def every(self) -> list[str]:
        """Every id, oldest first (for a sweep over all items)."""
        total = (await self.slice(offset=0, limit=1)).total
        return (await self.slice(offset=0, limit=max(total, 1))).ids
