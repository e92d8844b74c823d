"""Every request the suite sends, timed, so errors can be matched against the fault windows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    route: str
    started: float
    ended: float
    status: int | None
    """None when no answer came (client timeout or connection error)."""
    error: str | None = None
    """The transport error's name when no answer came, else the envelope's error code of a 5xx."""

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def server_error(self) -> bool:
        return self.status is not None and self.status >= 500


@dataclass
class Recorder:
    """Send requests through one client and keep a timed record of each."""

    client: httpx.AsyncClient
    calls: list[Call] = field(default_factory=list)

    async def send(
        self, method: str, url: str, *, route: str, seconds: float | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        """Send one request; a timeout or transport error is recorded and answered with None."""
        started = time.monotonic()
        try:
            if seconds is not None:
                kwargs["timeout"] = seconds
            response = await self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.calls.append(Call(route, started, time.monotonic(), None, type(exc).__name__))
            return None
        code = error_code(response) if response.status_code >= 500 else None
        self.calls.append(Call(route, started, time.monotonic(), response.status_code, code))
        return response


def data_of(response: httpx.Response | None) -> dict[str, Any]:
    """The `data` of a success envelope, or {} for anything else."""
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def error_code(response: httpx.Response | None) -> str:
    """The envelope's error code, the bare status, or `NO_ANSWER`."""
    if response is None:
        return "NO_ANSWER"
    try:
        body = response.json()
        return str(body["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP_{response.status_code}"
