"""The two password paths through the gateway, kept short: login (an Argon2id verify) and register (a hash)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass

import httpx

from bench.load import Send, Sent, closed_loop
from bench.orders import error_of
from bench.shop import PASSWORD, Customer
from bench.stats import Spread

CLIENTS = 4


@dataclass(frozen=True)
class Timed:
    """A closed-loop scenario measured by this client."""

    name: str
    clients: int
    seconds: float
    """How long it ran (the last requests end after the loop's deadline)."""
    sent: list[Sent[str | None]]
    """Each request's error (`<status> <code>`), None when it succeeded."""

    @property
    def rate(self) -> float:
        return len(self.sent) / self.seconds

    @property
    def spread(self) -> Spread | None:
        return Spread.of([s.latency_s * 1000 for s in self.sent])

    @property
    def errors(self) -> Counter[str]:
        return Counter(s.outcome for s in self.sent if s.outcome is not None)


async def _outcome(request: Awaitable[httpx.Response], expect: int) -> str | None:
    try:
        answer = await request
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if answer.status_code == expect else error_of(answer)


async def logins(client: httpx.AsyncClient, customer: Customer, seconds: float) -> Timed:
    async def send(_: int) -> str | None:
        return await _outcome(client.post("/auth/login", json={"email": customer.email, "password": PASSWORD}), 200)

    return await _timed("POST /auth/login (Argon2id verify)", send, seconds)


async def registrations(client: httpx.AsyncClient, seconds: float) -> Timed:
    tag = uuid.uuid4().hex[:8]

    async def send(index: int) -> str | None:
        body = {"email": f"bench-r{index}-{tag}@example.com", "password": PASSWORD, "name": "Bench"}
        return await _outcome(client.post("/auth/register", json=body), 201)

    return await _timed("POST /auth/register (Argon2id hash, outbox, user.registered)", send, seconds)


async def _timed(name: str, send: Send[str | None], seconds: float) -> Timed:
    started = time.monotonic()
    sent = await closed_loop(send, clients=CLIENTS, seconds=seconds)
    return Timed(name, CLIENTS, time.monotonic() - started, sent)
