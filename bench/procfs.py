"""What /proc says of the processes of one group: CPU time (utime + stime) and resident memory.

Every process of the platform is started in a session of its own (tools/stack), so its process group
is its pid and holds whatever it forked. CPU of children that exited and were reaped (cutime, cstime)
is not counted: none of the platform's processes runs short-lived children under load.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat this benchmark reads."""

    pid: int
    pgrp: int
    cpu_ticks: int
    """utime + stime, in clock ticks."""
    rss_pages: int


def parse_stat(text: str) -> ProcStat:
    """Read /proc/<pid>/stat; the command name (field 2) may hold spaces and `)`, so split after the last `)`."""
    pid, _, rest = text.partition(" (")
    fields = rest[rest.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): field n of proc(5) is fields[n - 3].
    return ProcStat(
        pid=int(pid), pgrp=int(fields[2]), cpu_ticks=int(fields[11]) + int(fields[12]), rss_pages=int(fields[21])
    )


@dataclass(frozen=True)
class Usage:
    """A process group's CPU time so far and its resident memory now."""

    cpu_ms: float
    rss_mib: float


def usage_by_group(proc: Path = Path("/proc")) -> dict[int, Usage]:
    """Every process group on the machine, with its processes' CPU time and resident memory summed."""
    ticks: dict[int, int] = {}
    pages: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError):
            continue  # it exited while we looked
        ticks[stat.pgrp] = ticks.get(stat.pgrp, 0) + stat.cpu_ticks
        pages[stat.pgrp] = pages.get(stat.pgrp, 0) + stat.rss_pages
    return {group: Usage(ticks[group] * 1000 / TICKS_PER_SECOND, pages[group] * PAGE_BYTES / MIB) for group in ticks}
