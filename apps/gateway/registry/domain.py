"""The gateway's service registry: what it routes where, and what it last saw of each service (pure, no I/O).

A service is down when it stops answering, not when it answers that it is not ready: a readiness probe
the service itself answered with NOT_READY (an app whose database or sidecar is not usable) sets its
health to `unavailable` and leaves it up, because it still answers the calls it can. It is marked down
on the second failure in a row that a probe started (two probes nobody answered, or one and then a
failed call), once nothing it was asked has been answered for `answered_within`, the probes' interval:
while any of its instances answers calls (one of two replicas died; the gateway's own sidecar is slow
under load and a probe ran out of time), it stays up. A call that fails alone (one slow answer) marks
nothing, and a probe's failure alone only counts. With probes every interval, a service that stops
answering is down by the end of the second probe after it stopped: within two intervals and one probe's
timeout. One successful probe or call brings it up again: while a service is down, one call per spacing
goes through as a trial (`take_trial`), so a service that is back is seen up by its first call, not its
next probe.

The breaker is the gateway's view of its own sidecar's circuit breaker towards the service, which
the gateway cannot ask for: `open` when the sidecar refused a call or a probe because it is open,
`closed` again when a call or a probe got through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

State = Literal["up", "down"]
Health = Literal["unknown", "ok", "unavailable"]
Breaker = Literal["closed", "open"]
DOWN_AFTER_FAILURES = 2
"""Failures in a row, the first of them a probe's, that mark a service down."""


@dataclass
class ServiceRecord:
    """One service as the gateway last saw it."""

    name: str
    prefixes: tuple[str, ...]
    state: State = "up"
    health: Health = "unknown"
    """What the last probe said; `unknown` until the first probe answered."""
    last_seen: datetime | None = None
    """When the service last answered a probe or a call."""
    last_checked: datetime | None = None
    """When the last probe ended."""
    failures: int = 0
    """Failures in a row since a probe failed (0 while the probes succeed)."""
    last_error: str | None = None
    """The public code of the last failure."""
    breaker: Breaker = "closed"
    breaker_changed: datetime | None = None
    last_trial: datetime | None = None
    """When a call last went through to it while it was down."""


class ServiceRegistry:
    """Every service the gateway routes to, with its route prefixes, health, state and breaker as last seen."""

    def __init__(
        self, routes: Mapping[str, Iterable[str]], *, answered_within: timedelta = timedelta(seconds=2)
    ) -> None:
        self._records = {name: ServiceRecord(name, tuple(prefixes)) for name, prefixes in routes.items()}
        self.answered_within = answered_within
        """A service that answered this recently is not marked down, whatever failed since."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._records)

    def records(self) -> list[ServiceRecord]:
        return list(self._records.values())

    def is_down(self, name: str) -> bool:
        """Whether requests for `name` should be refused at once; a service it does not know is never down."""
        record = self._records.get(name)
        return record is not None and record.state == "down"

    def take_trial(self, name: str, spacing_seconds: float, *, now: datetime) -> bool:
        """Whether a call to `name` may go through as a trial now (at most one per spacing); it counts as taken."""
        record = self._records.get(name)
        if record is None:
            return True
        if record.last_trial is not None and now - record.last_trial < timedelta(seconds=spacing_seconds):
            return False
        record.last_trial = now
        return True

    def probe_succeeded(self, name: str, *, at: datetime) -> None:
        record = self._records[name]
        record.health, record.last_checked = "ok", at
        self._answered(record, at)

    def probe_not_ready(self, name: str, *, at: datetime, code: str) -> None:
        """The service answered its readiness probe, saying it is not ready: unavailable health, and still up."""
        record = self._records[name]
        record.health, record.last_checked = "unavailable", at
        self._answered(record, at)
        record.last_error = code

    def probe_failed(self, name: str, *, at: datetime, code: str, breaker_open: bool = False) -> None:
        record = self._records[name]
        record.health, record.last_checked = "unavailable", at
        self._failed(record, at, code, breaker_open)

    def call_succeeded(self, name: str, *, at: datetime) -> None:
        record = self._records.get(name)
        if record is not None:
            self._answered(record, at)

    def call_failed(self, name: str, *, at: datetime, code: str, breaker_open: bool = False) -> None:
        """Count a failed call only after a failed probe: one slow answer alone never marks a service down."""
        record = self._records.get(name)
        if record is None:
            return
        if breaker_open:
            self._breaker(record, "open", at)
        if record.failures:
            self._failed(record, at, code, breaker_open)

    def _answered(self, record: ServiceRecord, at: datetime) -> None:
        record.state, record.failures, record.last_seen, record.last_error = "up", 0, at, None
        self._breaker(record, "closed", at)

    def _failed(self, record: ServiceRecord, at: datetime, code: str, breaker_open: bool) -> None:
        record.failures += 1
        record.last_error = code
        if breaker_open:
            self._breaker(record, "open", at)
        quiet = record.last_seen is None or at - record.last_seen >= self.answered_within
        if record.failures >= DOWN_AFTER_FAILURES and quiet:
            record.state = "down"

    @staticmethod
    def _breaker(record: ServiceRecord, breaker: Breaker, at: datetime) -> None:
        if record.breaker != breaker:
            record.breaker, record.breaker_changed = breaker, at
