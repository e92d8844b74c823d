"""Reads through servicekit.read_cache on a FakeSidecar's state: HIT, MISS, STALE, BYPASS, refusals passed on and
never kept, the age limit, the owner's timeout, the store's own failure or hang, change marks, a copy that
outlived its mark, and the metrics and logs."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import pytest

from servicekit import JunctionError, NotFound, StateItem, ValidationFailed
from servicekit.errors import ETagMismatch, ServiceUnavailable, UpstreamTimeout
from servicekit.read_cache import (
    CachedCopy,
    CachedReads,
    CacheKey,
    CacheOutcome,
    DaprStateReadCache,
    NoReadCache,
    mark_changed,
    read_through,
    state_cache,
)
from servicekit.read_cache.storage import MARK_ATTEMPTS
from servicekit.sidecar import StateOp
from servicekit.sidecar_errors import BreakerOpen, SidecarCallTimeout, StateUnavailable
from tests.unit.fakes import FakeSidecar, InterleavingSidecar
from tests.unit.servicekit.helpers import sample

TTL_SECONDS = 3600
KEY = CacheKey("thing:t-1", ("changed:thing:t-1",))


class Clock:
    """The cache's clock (seconds since the epoch), moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Owner:
    """The app that owns the data: answers `value`, or raises `failure`, after `delay_seconds`."""

    def __init__(self) -> None:
        self.value: Any = {"id": "t-1", "n": 1}
        self.failure: JunctionError | None = None
        self.delay_seconds = 0.0
        self.calls = 0
        self.during_call: Callable[[], Awaitable[None]] | None = None

    async def __call__(self) -> Any:
        self.calls += 1
        if self.during_call is not None:
            hook, self.during_call = self.during_call, None
            await hook()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.failure is not None:
            raise self.failure
        return dict(self.value)


class Reads:
    """A cache under test: its store, its clock, its owner, and one read through it."""

    def __init__(self, store: FakeSidecar | None = None, **settings: Any) -> None:
        self.sidecar = store or FakeSidecar()
        self.clock = Clock()
        self.owner = Owner()
        self.name = f"things-{uuid.uuid4().hex[:8]}"  # its own metric series
        cache = DaprStateReadCache(self.sidecar, ttl_seconds=TTL_SECONDS, fill_seconds=1, store="statestore")
        self.reads = CachedReads(cache, name=self.name, owner="things", clock=self.clock, **settings)

    async def read(self, key: CacheKey = KEY, *, bypass: bool = False) -> tuple[Any, CacheOutcome]:
        read = await read_through(key, self.owner, reads=self.reads, bypass=bypass)
        assert read.stale is (read.outcome is CacheOutcome.STALE)
        return read.data, read.outcome

    def counted(self, outcome: str) -> float:
        return sample("junction_cached_reads_total", cache=self.name, outcome=outcome)


@pytest.fixture
def things() -> Reads:
    return Reads()


# ---- hit and miss ------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_first_read_is_a_miss_kept_with_the_ttl_and_the_next_a_hit(things: Reads) -> None:
    assert await things.read() == ({"id": "t-1", "n": 1}, CacheOutcome.MISS)
    assert await things.read() == ({"id": "t-1", "n": 1}, CacheOutcome.HIT)
    assert things.owner.calls == 1
    slot = ("statestore", KEY.entry)
    assert things.sidecar.state[slot].value == {"data": {"id": "t-1", "n": 1}, "fetchedAt": 1_000.0}
    assert things.sidecar.expires[slot] - things.sidecar.clock() == pytest.approx(TTL_SECONDS, abs=5)
    assert (things.counted("miss"), things.counted("hit")) == (1, 1)


@pytest.mark.anyio
async def test_with_an_age_limit_an_older_copy_asks_the_owner_again() -> None:
    things = Reads(max_age_seconds=300)
    await things.read()
    things.clock.now += 299
    assert (await things.read())[1] is CacheOutcome.HIT
    things.clock.now += 1
    things.owner.value = {"id": "t-1", "n": 2}
    assert await things.read() == ({"id": "t-1", "n": 2}, CacheOutcome.MISS)
    assert await things.read() == ({"id": "t-1", "n": 2}, CacheOutcome.HIT), "kept afresh"


# ---- stale ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        ServiceUnavailable("The things service is unavailable."),
        UpstreamTimeout("The things service did not answer in time."),
        BreakerOpen("The things service is unavailable."),
        SidecarCallTimeout("The things service did not answer in time."),
    ],
    ids=["503", "504", "breaker-open", "sidecar-timeout"],
)
@pytest.mark.anyio
async def test_an_old_copy_answers_stale_when_the_owner_does_not_and_it_is_logged_and_counted(
    failure: JunctionError, caplog: pytest.LogCaptureFixture
) -> None:
    things = Reads(max_age_seconds=300)
    await things.read()
    things.clock.now += 1_000
    things.owner.failure = failure
    with caplog.at_level(logging.WARNING, logger="servicekit.read_cache"):
        assert await things.read() == ({"id": "t-1", "n": 1}, CacheOutcome.STALE)
    assert things.counted("stale") == 1
    (record,) = [r for r in caplog.records if r.name == "servicekit.read_cache"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["cache"] == things.name and fields["cacheKey"] == KEY.entry and fields["owner"] == "things"
    assert (fields["ownerCode"], fields["ownerStatus"]) == (failure.code, failure.status)
    assert fields["copyAgeSeconds"] == 1_000
    assert ("statestore", KEY.entry) in things.sidecar.state, "the copy stays for the next failure"


@pytest.mark.anyio
async def test_a_changed_copy_answers_stale_when_the_owner_does_not(things: Reads) -> None:
    await things.read()
    things.clock.now += 1
    await mark_changed(KEY.marks, reads=things.reads)
    things.owner.failure = ServiceUnavailable("The things service is unavailable.")
    assert (await things.read())[1] is CacheOutcome.STALE


@pytest.mark.anyio
async def test_with_no_copy_the_owners_failure_is_raised(things: Reads) -> None:
    things.owner.failure = ServiceUnavailable("The things service is unavailable.")
    with pytest.raises(ServiceUnavailable):
        await things.read()
    assert things.counted("stale") == 0 and not things.sidecar.state


@pytest.mark.anyio
async def test_an_owner_slower_than_its_timeout_is_a_503_or_answered_by_the_copy() -> None:
    things = Reads(owner_timeout_seconds=0.05, max_age_seconds=10)
    things.owner.delay_seconds = 1
    with pytest.raises(SidecarCallTimeout) as timed_out:
        await things.read()
    assert timed_out.value.message == "The things service did not answer in time."
    things.owner.delay_seconds = 0
    await things.read()
    things.clock.now += 10
    things.owner.delay_seconds = 1
    assert (await things.read())[1] is CacheOutcome.STALE


@pytest.mark.anyio
async def test_with_no_timeout_of_its_own_the_fetchs_deadline_decides(things: Reads) -> None:
    things.owner.failure = UpstreamTimeout("The things service did not answer in time.")
    with pytest.raises(UpstreamTimeout):  # a 504 stays a 504, not the cache's 503
        await things.read()


# ---- refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "refusal", [NotFound("No such thing.", code="THING_NOT_FOUND"), ValidationFailed("Bad id.")], ids=["404", "422"]
)
@pytest.mark.anyio
async def test_a_refusal_is_passed_on_never_kept_and_never_replaced_by_a_copy(
    things: Reads, refusal: JunctionError
) -> None:
    other = CacheKey("thing:t-2")
    things.owner.failure = refusal
    for _ in range(2):
        with pytest.raises(type(refusal)):
            await things.read(other)
    assert things.owner.calls == 2 and ("statestore", other.entry) not in things.sidecar.state
    things.owner.failure = None
    await things.read()
    await mark_changed(KEY.marks, reads=things.reads)
    things.clock.now += 1
    things.owner.failure = refusal
    with pytest.raises(type(refusal)):
        await things.read()


# ---- bypass ----------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_bypass_asks_the_owner_keeps_nothing_and_never_falls_back(things: Reads) -> None:
    assert await things.read(bypass=True) == ({"id": "t-1", "n": 1}, CacheOutcome.BYPASS)
    assert not things.sidecar.state, "a client's no-cache never makes the app write its state store"
    await things.read()
    things.owner.value = {"id": "t-1", "n": 2}
    assert await things.read(bypass=True) == ({"id": "t-1", "n": 2}, CacheOutcome.BYPASS)
    assert await things.read() == ({"id": "t-1", "n": 1}, CacheOutcome.HIT), "the kept copy was not replaced"
    things.owner.failure = ServiceUnavailable("The things service is unavailable.")
    with pytest.raises(ServiceUnavailable):
        await things.read(bypass=True)


# ---- the cache's own failure -------------------------------------------------------------------------------
class BrokenStore(FakeSidecar):
    """A sidecar whose state store fails every call."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        raise StateUnavailable("Reading state failed.")

    async def save_state(
        self, key: str, value: Any, *, etag: str | None = None, store: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        raise StateUnavailable("Saving state failed.")

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        raise StateUnavailable("Saving state failed.")


@pytest.mark.anyio
async def test_a_failing_store_never_fails_a_read_but_fails_a_mark() -> None:
    things = Reads(BrokenStore())
    assert (await things.read())[1] is CacheOutcome.MISS
    assert (await things.read())[1] is CacheOutcome.MISS
    assert things.owner.calls == 2
    with pytest.raises(StateUnavailable):  # an event handler's delivery is retried rather than lose the change
        await mark_changed(KEY.marks, reads=things.reads)


class HungStore(FakeSidecar):
    """A sidecar whose state store never answers."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        await asyncio.Event().wait()
        return None

    async def save_state(
        self, key: str, value: Any, *, etag: str | None = None, store: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        await asyncio.Event().wait()


@pytest.mark.anyio
async def test_a_hung_store_holds_a_read_no_longer_than_its_io_budget_per_lookup_and_keep(
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner_timeout, io_timeout = 0.3, 0.1
    things = Reads(HungStore(), owner_timeout_seconds=owner_timeout, io_timeout_seconds=io_timeout)
    things.owner.delay_seconds = 0.05
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="servicekit.read_cache"), anyio.fail_after(10):
        assert await things.read() == ({"id": "t-1", "n": 1}, CacheOutcome.MISS)
    assert time.monotonic() - began < owner_timeout + 2 * io_timeout + 0.5  # a lookup and a keep at most
    assert things.owner.calls == 1
    for operation in ("lookup", "keep"):
        assert (
            sample("junction_read_cache_failures_total", cache=things.name, operation=operation, reason="TIMEOUT") == 1
        )
    logged = [r.fields for r in caplog.records if r.name == "servicekit.read_cache"]  # type: ignore[attr-defined]
    assert [(f["operation"], f["reason"], f["timeoutSeconds"]) for f in logged] == [
        ("lookup", "TIMEOUT", io_timeout),
        ("keep", "TIMEOUT", io_timeout),
    ]


@pytest.mark.anyio
async def test_a_store_failure_is_counted_by_its_code() -> None:
    things = Reads(BrokenStore())
    await things.read()
    for operation in ("lookup", "keep"):
        labels = {"cache": things.name, "operation": operation, "reason": "STATE_UNAVAILABLE"}
        assert sample("junction_read_cache_failures_total", **labels) == 1


class BuggyStore(FakeSidecar):
    """A sidecar whose state read hits a bug (not one of the kit's errors)."""

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        raise AttributeError("'NoneType' object has no attribute 'value'")


@pytest.mark.anyio
async def test_a_bug_in_the_store_is_raised_not_read_as_a_miss() -> None:
    things = Reads(BuggyStore())
    with pytest.raises(AttributeError):
        await things.read()
    assert things.owner.calls == 0


@pytest.mark.anyio
async def test_caching_turned_off_asks_the_owner_every_time() -> None:
    cache = state_cache(FakeSidecar(), ttl_seconds=0, fill_seconds=1, store="statestore")
    assert isinstance(cache, NoReadCache)
    owner = Owner()
    for _ in range(2):
        assert (await read_through(KEY, owner, reads=CachedReads(cache))).outcome is CacheOutcome.MISS
    assert owner.calls == 2
    await mark_changed(KEY.marks, reads=CachedReads(cache))


# ---- change marks ------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_change_makes_only_the_copies_that_depend_on_it_out_of_date(things: Reads) -> None:
    other = CacheKey("thing:t-2", ("changed:thing:t-2",))
    await things.read()
    await things.read(other)
    things.clock.now += 1
    await mark_changed(KEY.marks, reads=things.reads)
    things.clock.now += 1
    assert (await things.read())[1] is CacheOutcome.MISS
    assert (await things.read(other))[1] is CacheOutcome.HIT
    assert (await things.read())[1] is CacheOutcome.HIT


@pytest.mark.anyio
async def test_a_fill_that_races_a_change_is_never_fresh(things: Reads) -> None:
    async def change_meanwhile() -> None:
        things.clock.now += 1
        await mark_changed(KEY.marks, reads=things.reads)
        things.clock.now += 1

    things.owner.during_call = change_meanwhile
    assert (await things.read())[1] is CacheOutcome.MISS
    assert (await things.read())[1] is CacheOutcome.MISS, "the copy's read began before the change: out of date"
    assert (await things.read())[1] is CacheOutcome.HIT


@pytest.mark.anyio
async def test_a_copy_written_late_is_not_fresh_once_its_change_mark_expired(things: Reads) -> None:
    """The copy's TTL runs from its write, a mark's from its own: a write that reached the store late (a slow
    store) leaves the copy there after the mark that dated it expired, and no mark must not read as fresh."""
    things.sidecar.clock = things.clock  # the store's TTLs and the cache's times on one clock

    async def change_then_a_slow_write() -> None:
        things.clock.now += 1
        await mark_changed(KEY.marks, reads=things.reads)  # kept TTL + fill + 1 s from now
        things.clock.now += 100  # the owner's answer, and so the copy's write, came 100 s later

    things.owner.during_call = change_then_a_slow_write
    assert (await things.read())[1] is CacheOutcome.MISS
    things.clock.now += TTL_SECONDS - 50  # the mark has expired, the copy written late has not
    assert await things.sidecar.get_state(KEY.marks[0]) is None
    assert await things.sidecar.get_state(KEY.entry) is not None
    things.owner.value = {"id": "t-1", "n": 2}
    assert await things.read() == ({"id": "t-1", "n": 2}, CacheOutcome.MISS), "older than its TTL: never fresh"


class RacingStore(FakeSidecar):
    """Another delivery moves a mark between this one's read and its write, `races` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        if self.races:
            self.races -= 1
            for op in operations:
                await super().save_state(op.key, {"at": 1.0}, store=store)
        await super().transact(operations, store=store)


@pytest.mark.anyio
async def test_a_mark_moves_forward_only_and_survives_a_racing_delivery() -> None:
    store = RacingStore(races=2)
    cache = DaprStateReadCache(store, ttl_seconds=300, fill_seconds=1)
    await cache.mark_changed(["changed:x"], at=50.0)
    assert (await store.get_state("changed:x")).value == {"at": 50.0}  # type: ignore[union-attr]
    await cache.mark_changed(["changed:x"], at=20.0)
    assert (await store.get_state("changed:x")).value == {"at": 50.0}  # type: ignore[union-attr]
    assert store.expires[("statestore", "changed:x")] > store.clock() + 300


@pytest.mark.anyio
async def test_a_mark_that_keeps_moving_is_left_to_a_redelivery() -> None:
    cache = DaprStateReadCache(RacingStore(races=100), ttl_seconds=300, fill_seconds=1)
    with pytest.raises(StateUnavailable):
        await cache.mark_changed(["changed:x"], at=50.0)


@pytest.mark.anyio
async def test_a_copy_in_another_shape_is_a_miss() -> None:
    store = FakeSidecar()
    cache = DaprStateReadCache(store, ttl_seconds=300, fill_seconds=1)
    await store.save_state(KEY.entry, {"something": "else"})
    assert await cache.lookup(KEY) is None
    await cache.keep(KEY, CachedCopy({"id": "t-1"}, 7.0))
    found = await cache.lookup(KEY)
    assert found is not None and found.copy == CachedCopy({"id": "t-1"}, 7.0) and found.changes == (None,)


class CountingStore(InterleavingSidecar):
    """Interleaves like a real sidecar and counts the state calls."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.writes: list[list[StateOp]] = []
        self.clashes = 0

    async def get_state(self, key: str, *, store: str | None = None) -> StateItem | None:
        self.reads += 1
        return await super().get_state(key, store=store)

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        self.writes.append(operations)
        try:
            await super().transact(operations, store=store)
        except ETagMismatch:
            self.clashes += 1
            raise


@pytest.mark.anyio
async def test_deliveries_moving_one_mark_at_once_share_its_writes_and_never_clash() -> None:
    store = CountingStore()
    cache = DaprStateReadCache(store, ttl_seconds=300, fill_seconds=1)
    await asyncio.gather(*(cache.mark_changed(["changed:list"], at=float(at)) for at in range(1, 21)))
    assert (await store.get_state("changed:list")).value == {"at": 20.0}  # type: ignore[union-attr]
    assert store.clashes == 0
    assert len(store.writes) < 20  # those that waited their turn behind a later change wrote nothing
    assert cache._writers == {}  # nothing kept once nobody waits


class InterleavingRacingStore(RacingStore, InterleavingSidecar):
    """Loses races like RacingStore, and yields around every state call, so deliveries overlap."""


@pytest.mark.anyio
async def test_a_mark_whose_write_failed_is_written_by_the_next_delivery_in_turn() -> None:
    store = InterleavingRacingStore(races=MARK_ATTEMPTS)  # the first delivery loses every race and gives up
    cache = DaprStateReadCache(store, ttl_seconds=300, fill_seconds=1)
    first, second = await asyncio.gather(
        cache.mark_changed(["changed:x"], at=40.0),
        cache.mark_changed(["changed:x"], at=30.0),
        return_exceptions=True,
    )
    assert isinstance(first, StateUnavailable) and second is None
    assert (await store.get_state("changed:x")).value == {"at": 40.0}  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_lookup_reads_the_copy_and_its_marks_in_one_call() -> None:
    store = FakeSidecar()
    cache = DaprStateReadCache(store, ttl_seconds=300, fill_seconds=1)
    await cache.keep(KEY, CachedCopy({"id": "t-1"}, 7.0))
    await cache.mark_changed(KEY.marks[:1], at=5.0)
    calls: list[list[str]] = []
    read_bulk, read_one = store.get_bulk_state, store.get_state

    async def bulk(keys: Sequence[str], *, store: str | None = None) -> dict[str, StateItem]:
        calls.append(list(keys))
        return await read_bulk(keys, store=store)

    async def one(key: str, *, store: str | None = None) -> StateItem | None:
        if not calls or key not in calls[-1]:  # the fake's bulk read goes through get_state
            calls.append([key])
        return await read_one(key, store=store)

    store.get_bulk_state, store.get_state = bulk, one  # type: ignore[method-assign]
    found = await cache.lookup(KEY)
    assert calls == [[KEY.entry, *KEY.marks]]
    assert found is not None and found.copy == CachedCopy({"id": "t-1"}, 7.0) and found.changes[0] == 5.0
