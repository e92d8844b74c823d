"""analytics' fake for unit tests: a FakeSidecar whose state calls interleave, and that counts concurrent reads."""

from __future__ import annotations

from servicekit.sidecar import StateItem
from tests.unit.fakes import InterleavingSidecar


class CountingSidecar(InterleavingSidecar):
    """An InterleavingSidecar that also counts how many state reads were in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = 0
        self.most_reading = 0

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        self.reading += 1
        self.most_reading = max(self.most_reading, self.reading)
        item = await super().get_state(key, store=store)
        self.reading -= 1
        return item
