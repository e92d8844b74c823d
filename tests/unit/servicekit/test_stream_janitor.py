"""The stream janitor trims only what every consumer group acknowledged, against a fake broker."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from servicekit.stream_janitor import Group, Trimmed, parse_id, sweep

NOW_MS = 10_000_000

pytestmark = pytest.mark.anyio


@dataclass
class FakeGroup:
    last_delivered: str = "0-0"
    pending: list[str] = field(default_factory=list)


@dataclass
class FakeBroker:
    """Streams of ids, and per stream the groups that read them (XINFO / XPENDING / XTRIM semantics)."""

    entries: dict[str, list[str]] = field(default_factory=dict)
    groups_of: dict[str, dict[str, FakeGroup]] = field(default_factory=dict)

    async def streams(self) -> list[str]:
        return sorted(self.entries)

    async def groups(self, stream: str) -> list[Group]:
        found = self.groups_of.get(stream, {})
        return [Group(name, g.last_delivered, len(g.pending)) for name, g in sorted(found.items())]

    async def oldest_pending(self, stream: str, group: str) -> str | None:
        pending = self.groups_of[stream][group].pending
        return min(pending, key=parse_id) if pending else None

    async def trim_below(self, stream: str, min_id: str) -> int:
        kept = [e for e in self.entries[stream] if parse_id(e) >= parse_id(min_id)]
        removed = len(self.entries[stream]) - len(kept)
        self.entries[stream] = kept
        return removed


def ids(*ms: int) -> list[str]:
    return [f"{m}-0" for m in ms]


async def run(broker: FakeBroker, expected_groups: dict[str, list[str]] | None = None) -> list[Trimmed]:
    return await sweep(broker, now_ms=NOW_MS, keep_seconds=0, expected_groups=expected_groups)


async def test_only_entries_every_group_acknowledged_go() -> None:
    broker = FakeBroker(
        entries={"order.created": ids(1, 2, 3, 4, 5)},
        groups_of={"order.created": {"payments": FakeGroup("5-0"), "analytics": FakeGroup("3-0")}},
    )
    [report] = await run(broker)
    assert broker.entries["order.created"] == ids(4, 5)  # analytics has not read 4 and 5 yet
    assert report.removed == 3


async def test_a_pending_entry_is_kept_with_everything_after_it() -> None:
    broker = FakeBroker(
        entries={"payment.succeeded": ids(1, 2, 3, 4)},
        groups_of={"payment.succeeded": {"orders": FakeGroup("4-0", pending=["2-0", "4-0"])}},
    )
    await run(broker)
    assert broker.entries["payment.succeeded"] == ids(2, 3, 4)  # delivered but never acked: redelivered later


async def test_a_stream_without_groups_or_missing_an_expected_one_is_left_alone() -> None:
    broker = FakeBroker(
        entries={"a": ids(1, 2), "b": ids(1, 2)},
        groups_of={"b": {"payments": FakeGroup("2-0")}},
    )
    reports = await run(broker, expected_groups={"b": ["payments", "notifications"]})
    assert broker.entries == {"a": ids(1, 2), "b": ids(1, 2)}
    assert [r.below for r in reports] == [None, None]


async def test_recent_entries_are_kept_for_keep_seconds() -> None:
    broker = FakeBroker(
        entries={"t": ids(NOW_MS - 5000, NOW_MS - 500)}, groups_of={"t": {"g": FakeGroup(f"{NOW_MS}-0")}}
    )
    await sweep(broker, now_ms=NOW_MS, keep_seconds=1)
    assert broker.entries["t"] == ids(NOW_MS - 500)


async def test_nothing_read_means_nothing_trimmed() -> None:
    broker = FakeBroker(entries={"t": ids(1, 2)}, groups_of={"t": {"g": FakeGroup("0-0")}})
    await run(broker)
    assert broker.entries["t"] == ids(1, 2)
