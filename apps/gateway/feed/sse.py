"""One client's live feed over Server-Sent Events: frames as the spec writes them, written as the hub wakes it.

Starlette's `StreamingResponse` carries the stream; no SSE library is added. The framing is three lines
(`sse_frame`), and what such a library adds besides (pings, disconnect detection, shutdown) is either
already in Starlette (under uvicorn's ASGI 2.3 it listens for the client's disconnect and cancels the
stream) or has to follow the hub's life anyway: the stream ends when the hub closes, which the gateway
does as soon as the server is asked to stop (`servicekit.serve.when_stopping`: uvicorn waits for open
responses before it runs the lifespan's exit, so a connected client would otherwise hold the stop), and
a stream asked for after that is refused (FeedClosed).

A frame is `id:` the event id, `event:` the topic, `data:` one JSON line. A client whose queue
overflowed gets `event: missed` with `{"missed": n}` before its next items. A comment line
(`: keep-alive`) goes out when nothing else has for `heartbeat_seconds`, so proxies keep the connection.
When the token that opened the stream expires, `event: expired` with `{"code": "TOKEN_EXPIRED"}` is the
last frame: the stream shows nothing to a token that would no longer be let in.
There is no history: a reconnecting client's Last-Event-ID is ignored, it sees events from then on.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from apps.gateway.feed.domain import FeedItem
from apps.gateway.feed.hub import FeedClient, FeedHub
from servicekit.tokens import TokenExpired

MEDIA_TYPE = "text/event-stream"
HEARTBEAT = b": keep-alive\n\n"
OPENING = b"retry: 3000\n\n"
"""Sent first: the response starts at once, and a browser's EventSource reconnects after 3 s."""
_SAFE_ID = re.compile(r"[!-~]{1,128}")
"""Printable ASCII without spaces: an `id:` line that cannot break the framing."""
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
"""No cache keeps a copy; nginx-like proxies pass each frame on at once instead of buffering."""


def sse_frame(item: FeedItem) -> bytes:
    """One item as an SSE event; an id that could break the framing is left out."""
    data = json.dumps(item.as_json(), separators=(",", ":"))
    id_line = f"id: {item.event_id}\n" if _SAFE_ID.fullmatch(item.event_id) else ""
    return f"{id_line}event: {item.topic}\ndata: {data}\n\n".encode()


def missed_frame(missed: int) -> bytes:
    """Tells a client how many items its full queue dropped since it was last written to."""
    return f"event: missed\ndata: {json.dumps({'missed': missed})}\n\n".encode()


def expired_frame() -> bytes:
    """Tells a client its token expired, so its stream ends (a browser's EventSource needs `data` to see it)."""
    return f"event: expired\ndata: {json.dumps({'code': TokenExpired.default_code})}\n\n".encode()


class EventStream(StreamingResponse):
    """The response of one connected client; the client is disconnected from the hub however the stream ends."""

    media_type = MEDIA_TYPE

    def __init__(
        self, hub: FeedHub, topics: frozenset[str], *, subject: str, expires_at: float, heartbeat_seconds: float
    ) -> None:
        """A stream of `topics` for `subject`'s token, which ends at `expires_at` (seconds since the epoch)."""
        self._woken = asyncio.Event()
        self._hub = hub
        # FeedFull, FeedClosed: a 503; TooManyFeedStreams: a 429
        self._client: FeedClient = hub.connect(topics, self._woken.set, subject=subject)
        self._expires_at = expires_at
        self._heartbeat_seconds = heartbeat_seconds
        self._frame_stream = self._frames()
        super().__init__(self._frame_stream, headers=HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # the client left, the token expired, the hub closed (the server is stopping), or sending failed
            self._hub.disconnect(self._client)
            await self._frame_stream.aclose()

    async def _frames(self) -> AsyncGenerator[bytes, None]:
        yield OPENING
        while True:
            token_left = self._expires_at - time.time()
            if token_left <= 0:
                yield expired_frame()
                return
            try:
                async with asyncio.timeout(min(self._heartbeat_seconds, token_left)):
                    await self._woken.wait()
            except TimeoutError:
                if time.time() < self._expires_at:
                    yield HEARTBEAT
                continue
            self._woken.clear()
            missed, items = self._client.take()
            frames = ([missed_frame(missed)] if missed else []) + [sse_frame(item) for item in items]
            if frames:
                yield b"".join(frames)  # one write per wake, however many items queued meanwhile
            if self._client.closed:
                return
