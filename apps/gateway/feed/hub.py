"""The live feed's fan-out, with no I/O: every connected client has a bounded queue; nothing waits on a client.

A delivery puts an item in the queue of every client that asked for its topic and returns at once. A queue
that is full drops its oldest item and counts it, so a slow client costs the gateway at most
`queue_size` items and learns how many it missed the next time it is written to. The number of clients
is bounded too (`max_clients`, and `max_clients_per_subject` for one token's subject, so one admin's
token cannot take every place): the hub's memory is at most `max_clients x queue_size` items, plus the
last `recent_ids` event ids it remembers so a redelivered event is not shown twice. A closed hub (the
gateway is stopping) has ended every client and refuses new ones.

The writer of each client (`sse`) is told there is something to write through the `wake` callback it
registered; the hub never awaits it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from apps.gateway.feed.domain import FeedItem
from servicekit import DependencyUnavailable, RateLimited

DEFAULT_MAX_CLIENTS = 20
DEFAULT_MAX_CLIENTS_PER_SUBJECT = 3
DEFAULT_QUEUE_SIZE = 256
DEFAULT_RECENT_IDS = 4096
DEFAULT_HEARTBEAT_SECONDS = 15.0


class FeedFull(DependencyUnavailable):
    """Raised when a client asks for the feed while as many clients as the gateway serves are connected."""

    default_code = "EVENT_FEED_FULL"
    retry_after = 5


class TooManyFeedStreams(RateLimited):
    """Raised when a client asks for the feed while its token's subject already holds as many streams as one may."""

    default_code = "TOO_MANY_FEED_STREAMS"

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=5)


class FeedClosed(DependencyUnavailable):
    """Raised when a client asks for the feed while the gateway is shutting down."""

    default_code = "EVENT_FEED_CLOSED"
    retry_after = 5


@dataclass(eq=False)
class FeedClient:
    """One connected client: the topics it asked for, its queue, what it missed since it was last written to."""

    topics: frozenset[str]
    queue_size: int
    wake: Callable[[], None]
    """Tells the client's writer there is something to take (or that the feed closed)."""
    subject: str
    """Whose token opened it (the JWT's `sub`)."""
    missed: int = 0
    closed: bool = False
    _queue: deque[FeedItem] = field(init=False)

    def __post_init__(self) -> None:
        self._queue = deque(maxlen=self.queue_size)

    def offer(self, item: FeedItem) -> None:
        """Queue an item; when the queue is full the oldest item goes, and is counted as missed."""
        if len(self._queue) == self.queue_size:
            self.missed += 1
        self._queue.append(item)  # a full deque with maxlen drops from the other end
        self.wake()

    def take(self) -> tuple[int, list[FeedItem]]:
        """How many items were missed since the last take, and every item queued, oldest first; both reset."""
        missed, items = self.missed, list(self._queue)
        self.missed = 0
        self._queue.clear()
        return missed, items

    def close(self) -> None:
        self.closed = True
        self.wake()


class FeedHub:
    """Fans items out to the connected clients; bounded in clients, queued items and remembered ids."""

    def __init__(
        self,
        *,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        max_clients_per_subject: int = DEFAULT_MAX_CLIENTS_PER_SUBJECT,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        recent_ids: int = DEFAULT_RECENT_IDS,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
    ) -> None:
        if max_clients < 1 or max_clients_per_subject < 1 or queue_size < 1 or recent_ids < 0 or heartbeat_seconds <= 0:
            raise ValueError("a feed needs room for a client and an item, and a heartbeat")
        self.max_clients = max_clients
        self.max_clients_per_subject = max_clients_per_subject
        self.queue_size = queue_size
        self.recent_ids = recent_ids
        self.heartbeat_seconds = heartbeat_seconds
        """How long a client's stream may stay silent before a keep-alive comment (the writer's business)."""
        self.clients: set[FeedClient] = set()
        self.closed = False
        self._seen: OrderedDict[str, None] = OrderedDict()

    def connect(self, topics: frozenset[str], wake: Callable[[], None], *, subject: str) -> FeedClient:
        """Register a client of `topics` for `subject`; refused when the hub is closed or full, or `subject` holds
        as many clients as one may."""
        if self.closed:
            raise FeedClosed("The gateway is shutting down; reconnect shortly.")
        if sum(client.subject == subject for client in self.clients) >= self.max_clients_per_subject:
            raise TooManyFeedStreams(
                f"This account already has {self.max_clients_per_subject} event streams open; close one first."
            )
        if len(self.clients) >= self.max_clients:
            raise FeedFull(f"The event feed already serves {self.max_clients} clients; try again later.")
        client = FeedClient(topics, self.queue_size, wake, subject)
        self.clients.add(client)
        return client

    def disconnect(self, client: FeedClient) -> None:
        """Forget a client (it left, or its stream ended); forgetting one twice is harmless."""
        self.clients.discard(client)
        client.closed = True

    def publish(self, item: FeedItem) -> bool:
        """Queue `item` for every client of its topic; False when its event id was published recently."""
        if item.event_id in self._seen:
            self._seen.move_to_end(item.event_id)
            return False
        if self.recent_ids:
            self._seen[item.event_id] = None
            if len(self._seen) > self.recent_ids:
                self._seen.popitem(last=False)
        for client in list(self.clients):
            if item.topic in client.topics:
                client.offer(item)
        return True

    def close(self) -> None:
        """End every client's stream (the gateway is stopping) and refuse new ones; closing twice is harmless."""
        self.closed = True
        for client in list(self.clients):
            client.close()
        self.clients.clear()
