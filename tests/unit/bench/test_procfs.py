"""Reading /proc/<pid>/stat and summing a process group's CPU and memory."""

from __future__ import annotations

from pathlib import Path

from bench.procfs import PAGE_BYTES, TICKS_PER_SECOND, ProcStat, parse_stat, usage_by_group


def _stat(pid: int, comm: str, pgrp: int, utime: int, stime: int, rss: int) -> str:
    # Fields 3..24 of proc(5): state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime priority nice threads itreal starttime vsize rss, then more.
    fields = ["S", "1", str(pgrp), str(pgrp), "0", "-1", "4194560", "10", "0", "0", "0"]
    fields += [str(utime), str(stime), "999", "999", "20", "0", "4", "0", "100", "123456", str(rss), "1844"]
    return f"{pid} ({comm}) {' '.join(fields)}\n"


def test_parse_reads_group_cpu_and_rss() -> None:
    assert parse_stat(_stat(42, "daprd", 40, 150, 50, 9000)) == ProcStat(42, 40, 200, 9000)


def test_a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() -> None:
    assert parse_stat(_stat(7, "python (x) -m", 7, 3, 4, 5)) == ProcStat(7, 7, 7, 5)


def test_reaped_children_are_not_counted() -> None:
    # cutime and cstime (999 above) belong to children that exited: not this group's own processes.
    assert parse_stat(_stat(1, "sh", 1, 1, 1, 1)).cpu_ticks == 2


def test_usage_sums_every_process_of_a_group_and_skips_what_is_not_a_process(tmp_path: Path) -> None:
    for pid, pgrp, utime in ((100, 100, 10), (101, 100, 20), (200, 200, 5)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(_stat(pid, "app", pgrp, utime, 0, 256))
    (tmp_path / "self").mkdir()
    (tmp_path / "300").mkdir()  # exited between the listing and the read: no stat file
    usage = usage_by_group(tmp_path)
    assert set(usage) == {100, 200}
    assert usage[100].cpu_ms == 30 * 1000 / TICKS_PER_SECOND
    assert usage[100].rss_mib == 512 * PAGE_BYTES / (1024 * 1024)
