"""The services behind the gateway, reached through its sidecar; their failures leave as `public_error`.

identity's user lookup over gRPC (/users/me) is `users`. Every call's outcome is recorded in the
`registry`. Calls to a service it marks down (one that stopped answering, not one that answers it is
not ready) are refused at once (`ServiceDown`), all but one trial call per `TRIAL_SPACING_SECONDS`,
which goes through: a service that is back answers it and is up again within that long of reporting
ready (as it would be without the registry: its probe's own breaker in the sidecar may stay open for a
while after the restart, so a probe alone would lag).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from apps.gateway.errors import InvalidPathParameter, ServiceDown, public_error
from apps.gateway.peers.users import UserLookup
from apps.gateway.registry import ServiceRegistry
from servicekit import JunctionError, SidecarClient
from servicekit.clock import utc_now
from servicekit.health import NotReady
from servicekit.sidecar_errors import BreakerOpen, SidecarCallTimeout, SidecarUnreachable

log = logging.getLogger("gateway.peers")
Report = dict[str, Any]
TRIAL_SPACING_SECONDS = 1.0
"""How often a call to a service marked down still goes through, to see whether it is back."""

# What may appear in a forwarded path once its parameters are quoted: RFC 3986 unreserved, `%`, `/`.
_URL_PATH = re.compile(r"^[A-Za-z0-9\-._~%/]*$")


def segment(value: str) -> str:
    """Quote one path parameter for a peer's URL: `/`, `?`, `#`, `%` and NUL stay data, never syntax."""
    return quote(value, safe="")


def check_path(path: str) -> str:
    """Refuse, as bad input, a forwarded path that would not reach the peer as written.

    A safety net under the routes' own validation: an unquoted NUL would crash the HTTP client, and a
    `..` segment would be normalised into another route of the peer.
    """
    if not _URL_PATH.fullmatch(path) or any(part in (".", "..") for part in path.split("/")):
        raise InvalidPathParameter("A path parameter is not a valid id.")
    return path


@dataclass(frozen=True)
class AppIds:
    """The Dapr app ids of the services the gateway calls (the settings name them)."""

    identity: str
    catalog: str
    orders: str
    payments: str
    notifications: str
    analytics: str
    admin: str


class RecentReport:
    """One readiness round shared by every caller while it is younger than `max_age_seconds`.

    Anonymous health may be asked often; this keeps it from turning each ask into a call to every app.
    """

    def __init__(self, max_age_seconds: float = 1.0) -> None:
        self.max_age_seconds = max_age_seconds
        self._report: Report | None = None
        self._taken = 0.0
        self._round = asyncio.Lock()

    async def get(self, ask: Callable[[], Awaitable[Report]]) -> Report:
        async with self._round:  # callers during a round wait for it rather than start their own
            if self._report is None or time.monotonic() - self._taken >= self.max_age_seconds:
                self._report = await ask()
                self._taken = time.monotonic()
            return self._report


@dataclass(frozen=True)
class Peers:
    sidecar: SidecarClient
    apps: AppIds
    health_apps: tuple[str, ...]
    recent: RecentReport = field(default_factory=RecentReport, compare=False, repr=False)
    users: UserLookup | None = field(default=None, compare=False, repr=False)
    """identity's Users over gRPC (/users/me); the lifespan opens it on the sidecar's gRPC port."""
    registry: ServiceRegistry = field(default_factory=lambda: ServiceRegistry({}), compare=False, repr=False)
    """What the gateway last saw of each service (apps.gateway.registry); by default it knows none, refuses none."""
    retry_after_seconds: int = 2
    """Retry-After of a call refused because its service is down: the registry's interval."""
    probe_timeout_seconds: float = 1.5
    """How long one of the registry's readiness probes may take."""

    async def profile(self, user_id: str) -> Any:
        """The caller's profile: Users.GetUser over gRPC."""
        if self.users is None:
            raise RuntimeError("the gateway was built without its gRPC user lookup")
        self._admit(self.apps.identity)
        try:
            profile = await self.users.profile(user_id)
        except JunctionError as failure:
            self._observe(self.apps.identity, failure)
            public = public_error(failure)
            if public is not failure or failure.status >= 500:
                _log_relayed(self.apps.identity, "gRPC", "/junction.identity.v1.Users/GetUser", failure)
            raise public from failure
        self._observe(self.apps.identity, None)
        return profile

    async def call(self, app: str, method: str, path: str, **kwargs: Any) -> Any:
        """Invoke a peer; the path's parameters must already be quoted (`segment`).

        A failure is logged whole, with the request id, and raised as a public client may see it.
        """
        checked = check_path(path)
        self._admit(app)
        try:
            answer = await self.sidecar.invoke(app, method, checked, **kwargs)
        except JunctionError as failure:
            self._observe(app, failure)
            public = public_error(failure)
            if public is not failure or failure.status >= 500:
                _log_relayed(app, method, checked, failure)
            raise public from failure
        self._observe(app, None)
        return answer

    async def ready(self, app_id: str) -> Report:
        """One app's readiness report; a failure raised as the kit's error (the registry's probe)."""
        report = await self.sidecar.invoke(app_id, "GET", "/readyz")
        return {**report, "status": "ok"}

    async def probe(self, app_id: str) -> None:
        """Ask one service for its readiness and record the answer; our own sidecar's failure records nothing."""
        try:
            async with asyncio.timeout(self.probe_timeout_seconds):
                await self.ready(app_id)
        except TimeoutError:
            self.registry.probe_failed(app_id, at=utc_now(), code=SidecarCallTimeout.default_code)
        except SidecarUnreachable:
            log.warning("the gateway's sidecar is not reachable; the registry keeps what it last saw")
        except JunctionError as failure:
            if failure.code == NotReady.default_code:  # the service answered: not ready, yet callable
                self.registry.probe_not_ready(app_id, at=utc_now(), code=failure.code)
                return
            code = public_error(failure).code
            self.registry.probe_failed(app_id, at=utc_now(), code=code, breaker_open=isinstance(failure, BreakerOpen))
        else:
            self.registry.probe_succeeded(app_id, at=utc_now())

    async def readiness(self) -> Report:
        """Ask every app behind the gateway for its readiness, in parallel."""

        async def one(app_id: str) -> Report:
            try:
                return await self.ready(app_id)
            except JunctionError as exc:
                public = public_error(exc)
                return {"status": "unavailable", "error": {"code": public.code, "message": public.message}}

        results = await asyncio.gather(*(one(app_id) for app_id in self.health_apps))
        return dict(zip(self.health_apps, results, strict=True))

    async def recent_readiness(self) -> Report:
        """`readiness`, from a round at most `recent.max_age_seconds` old."""
        return await self.recent.get(self.readiness)

    def _admit(self, app: str) -> None:
        """Let a call through unless its service is down and this is not its turn to try it (a trial)."""
        if self.registry.is_down(app) and not self.registry.take_trial(app, TRIAL_SPACING_SECONDS, now=utc_now()):
            raise ServiceDown(retry_after=self.retry_after_seconds)

    def _observe(self, app: str, failure: JunctionError | None) -> None:
        """Record a call's outcome; a refusal (4xx) is an answer, and our own sidecar's failure is not the peer's."""
        if isinstance(failure, SidecarUnreachable):
            return
        if failure is None or failure.status < 500:
            self.registry.call_succeeded(app, at=utc_now())
        else:
            code = public_error(failure).code
            self.registry.call_failed(app, at=utc_now(), code=code, breaker_open=isinstance(failure, BreakerOpen))


def _log_relayed(app: str, method: str, path: str, failure: JunctionError) -> None:
    fields = {
        "peer": app,
        "peerMethod": method,
        "peerPath": path,
        "peerStatus": failure.status,
        "peerCode": failure.code,
        "peerMessage": failure.message,
        "peerDetails": failure.details,
    }
    log.warning("a peer's failure, relayed to the client without its internals", extra={"fields": fields})


async def sections(calls: dict[str, Awaitable[Any]]) -> dict[str, Any]:
    """Run calls in parallel; each section says `ok` with its data or `unavailable` with why."""

    async def one(call: Awaitable[Any]) -> dict[str, Any]:
        try:
            return {"status": "ok", "data": await call}
        except JunctionError as exc:
            return {"status": "unavailable", "error": {"code": exc.code, "message": exc.message}}

    results = await asyncio.gather(*(one(call) for call in calls.values()))
    return dict(zip(calls, results, strict=True))
