"""Reading wrk's output (the JSON line bench/wrk_summary.lua prints) and the command it is run with."""

from __future__ import annotations

import pytest

from bench.wrk import SUMMARY_SCRIPT, parse_summary, wrk_command

OUTPUT = """Running 3s test @ http://127.0.0.1:20000/products/x
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    17.91ms   20.11ms 150.63ms   91.20%
  3238 requests in 3.07s, 1.20MB read
  Non-2xx or 3xx responses: 2
Requests/sec:   1054.61
"""
SUMMARY = (
    '{"requests": 3238, "duration_us": 3070658, "non_2xx": 2, "socket_errors": 1, '
    '"p50_us": 12969, "p95_us": 27160, "p99_us": 119298, "max_us": 150627}\n'
)


def test_the_summary_line_gives_milliseconds_and_the_rate() -> None:
    result = parse_summary(OUTPUT + SUMMARY, connections=16)
    assert result.requests == 3238
    assert result.seconds == pytest.approx(3.070658)
    assert result.rate == pytest.approx(3238 / 3.070658)
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms) == (12.969, 27.16, 119.298, 150.627)
    assert result.errors == 3
    assert result.connections == 16


def test_output_without_the_summary_is_an_error_that_shows_it() -> None:
    with pytest.raises(ValueError, match="unable to connect"):
        parse_summary("unable to connect to 127.0.0.1:1 Connection refused\n", connections=1)


def test_the_command_sends_the_headers_and_uses_at_most_two_threads() -> None:
    command = wrk_command("http://h/x", connections=16, seconds=2.6, headers={"dapr-api-token": "t"})
    assert command[:5] == ["wrk", "--threads", "2", "--connections", "16"]
    assert command[5:7] == ["--duration", "3s"]
    assert command[9:11] == ["--script", str(SUMMARY_SCRIPT)]
    assert command[-3:] == ["--header", "dapr-api-token: t", "http://h/x"]
    assert wrk_command("http://h/x", connections=1, seconds=0.2, headers={})[2] == "1"
