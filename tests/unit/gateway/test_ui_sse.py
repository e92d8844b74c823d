"""The page's Server-Sent Events parser (apps/gateway/ui/static/sse.js), run in Node.js on chunks cut anywhere.

The page reads the live feed with fetch() (EventSource cannot send the admin's token), so it frames the
stream itself; what the gateway writes (apps.gateway.feed.sse) must come out as the events it framed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from apps.gateway.feed import FeedItem, missed_frame, sse_frame
from apps.gateway.feed.sse import HEARTBEAT, OPENING
from apps.gateway.ui.files import STATIC

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js runs the page's parser; `make setup` installs it")
# sse.js imports nothing, so it loads as an ES module from a data: URL, with no package.json or flag.
RUNNER = """
const [source, chunks] = JSON.parse(require("fs").readFileSync(0, "utf8"));
import("data:text/javascript," + encodeURIComponent(source)).then(({ SseParser }) => {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  console.log(JSON.stringify({ events, retry: parser.retry }));
});
"""


def parse(chunks: list[str]) -> dict[str, Any]:
    assert NODE is not None
    source = (STATIC / "sse.js").read_text()
    done = subprocess.run(
        [NODE, "-e", RUNNER], input=json.dumps([source, chunks]), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def item(n: int) -> FeedItem:
    return FeedItem("order.created", f"e-{n}", "2026-12-07T10:00:00Z", f"r-{n}", {"orderId": f"o-{n}"})


def test_the_gateways_frames_come_out_as_its_events_whatever_the_chunks() -> None:
    stream = (OPENING + sse_frame(item(1)) + HEARTBEAT + missed_frame(3) + sse_frame(item(2))).decode()
    expected = [
        {"type": "order.created", "data": json.dumps(item(1).as_json(), separators=(",", ":")), "id": "e-1"},
        {"type": "missed", "data": '{"missed": 3}', "id": "e-1"},  # the last event id stays, as the standard says
        {"type": "order.created", "data": json.dumps(item(2).as_json(), separators=(",", ":")), "id": "e-2"},
    ]
    for size in (1, 2, 7, len(stream)):
        parsed = parse([stream[i : i + size] for i in range(0, len(stream), size)])
        assert parsed == {"events": expected, "retry": 3000}, size


def test_line_ends_comments_and_multi_line_data_follow_the_standard() -> None:
    # CRLF, LF and a lone CR each end a line; a comment is skipped; an event without data is not dispatched.
    stream = ": hello\r\nevent: a\r\ndata: one\r\ndata:two\r\n\r\ndata\n\nevent: ignored\n\nid: x\rdata: three\r\r\n"
    for size in (1, 3, len(stream)):
        parsed = parse([stream[i : i + size] for i in range(0, len(stream), size)])
        assert parsed["events"] == [
            {"type": "a", "data": "one\ntwo", "id": ""},
            {"type": "message", "data": "", "id": ""},
            {"type": "message", "data": "three", "id": "x"},
        ], size


def test_an_unfinished_event_waits_for_its_blank_line() -> None:
    assert parse(["data: half", "way\n"])["events"] == []
