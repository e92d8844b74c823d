"""How long Junction remembers what it sent and applied, and why each horizon outlasts the one before it.

An event can come back to a consumer in three ways: a broker redelivery (within minutes: Redis hands a
pending message out again after `processingTimeout`, 60 s, and a delivery's retries span 54.6 s), a
delivery held up by a stopped consumer (as long as it stays down), and an operator's replay of a dead
letter, which admin allows only while the event is younger than REPLAY_HORIZON. Every record that makes
an event count once must outlive all three, so DEDUPE_HORIZON is twice the replay horizon.
"""

from __future__ import annotations

DAY = 86400

REPLAY_HORIZON_SECONDS = 7 * DAY
"""Admin refuses to replay a dead letter whose event occurred longer ago than this."""

DEDUPE_HORIZON_SECONDS = 14 * DAY
"""How long a consumer remembers an applied event id (TTL of its marker, age of its row)."""

OUTBOX_KEEP_SENT_SECONDS = REPLAY_HORIZON_SECONDS
"""How long a sent outbox row is kept: while its event may still be replayed, the row is the publisher's
own record of what it sent (an operator compares a letter with it); after that nothing can ask for it."""
