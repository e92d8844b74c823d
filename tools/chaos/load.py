"""The load: customers placing and cancelling orders, admins creating tenants, through the gateway only."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.chaos.calls import Recorder, data_of, error_code
from tools.chaos.plan import Plan

RETRYABLE = {429, 500, 502, 503, 504}
APPROVED, DECLINED = "tok_ok", "tok_decline"  # the simulated provider's test cards
PASSWORD = "chaos-suite-password"  # noqa: S105 - throwaway accounts of one run
ADMIN = {"email": "admin@junction.local", "password": "junction-admin"}


@dataclass
class Customer:
    email: str
    user_id: str
    auth: dict[str, str]


@dataclass
class Product:
    id: str
    initial: int


@dataclass
class Intent:
    """One order a customer means to place once, under one Idempotency-Key."""

    key: str
    user_id: str
    token: str
    lines: list[dict[str, Any]]
    attempts: int = 0
    order_id: str | None = None
    accepted_at: float | None = None
    outcome: str = "NO_ANSWER"
    cancel_sent: bool = False
    cancel_acknowledged: bool = False
    request_ids: list[str] = field(default_factory=list)
    """The gateway's X-Request-ID of each answered attempt: every app logs it, and the order's events carry it."""


@dataclass
class TenantAttempt:
    subdomain: str
    outcome: str
    tenant_id: str | None


@dataclass
class Signals:
    """Shared with the fault thread: when tenants are wanted and whether a creation is in flight."""

    tenant_phase: threading.Event = field(default_factory=threading.Event)
    tenant_in_flight: threading.Event = field(default_factory=threading.Event)
    tenant_allowance: int = 0
    """How many tenant creations may have been sent so far (raised by the fault thread per phase)."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Load:
    plan: Plan
    recorder: Recorder
    admin: dict[str, str]
    customers: list[Customer]
    products: list[Product]
    order_budget: float
    tenant_budget: float
    signals: Signals = field(default_factory=Signals)
    intents: list[Intent] = field(default_factory=list)
    tenants: list[TenantAttempt] = field(default_factory=list)
    _in_flight: int = 0
    _accepted_ok: int = 0

    def _intent(self, rng: random.Random) -> Intent:
        customer = self.customers[len(self.intents) % len(self.customers)]
        plenty, scarce = self.products[:-1], self.products[-1]
        chosen = rng.sample(plenty, k=rng.randint(1, min(3, len(plenty))))
        if rng.random() < self.plan.scarce_share:
            chosen.append(scarce)
        lines = [{"productId": p.id, "quantity": rng.randint(2, 4)} for p in chosen]
        token = APPROVED if rng.random() < 0.75 else DECLINED
        intent = Intent(uuid.uuid4().hex, customer.user_id, token, lines)
        self.intents.append(intent)
        return intent

    def _auth(self, intent: Intent) -> dict[str, str]:
        return next(c.auth for c in self.customers if c.user_id == intent.user_id)

    async def _place(self, intent: Intent) -> None:
        """POST the order, retrying the same key on 5xx, 429 and no answer, within a bounded time."""
        body = {"items": intent.lines, "paymentMethod": {"token": intent.token}}
        headers = {**self._auth(intent), "Idempotency-Key": intent.key}
        deadline = time.monotonic() + 4 * self.order_budget
        while intent.attempts < self.plan.order_attempts and time.monotonic() < deadline:
            intent.attempts += 1
            response = await self.recorder.send(
                "POST", "/orders", route="POST /orders", json=body, headers=headers, seconds=self.order_budget + 5
            )
            if response is not None and (request_id := response.headers.get("X-Request-ID")):
                intent.request_ids.append(request_id)
            intent.outcome = "ACCEPTED" if response is not None and response.status_code in (200, 201) else ""
            if intent.outcome:
                intent.order_id = str(data_of(response)["id"])
                intent.accepted_at = time.monotonic()
                return
            intent.outcome = error_code(response)
            if response is not None and response.status_code not in RETRYABLE:
                return
            await asyncio.sleep(min(4.0, 0.5 * 2 ** (intent.attempts - 1)))

    async def _cancel(self, intent: Intent) -> None:
        intent.cancel_sent = True
        for attempt in range(6):
            response = await self.recorder.send(
                "POST",
                f"/orders/{intent.order_id}/cancel",
                route="POST /orders/{id}/cancel",
                headers=self._auth(intent),
                seconds=self.order_budget + 5,
            )
            if response is not None and response.status_code == 200:
                intent.cancel_acknowledged = data_of(response).get("status") == "CANCELLED"
                return
            if response is not None and response.status_code not in RETRYABLE:
                return
            await asyncio.sleep(0.5 * 2**attempt)

    async def order_worker(self, number: int) -> None:
        """Place orders at a steady pace until told to stop or the plan's bound is reached."""
        rng = random.Random(self.plan.seed * 1000 + number)  # noqa: S311 - a reproducible load, not a secret
        deadline = time.monotonic() + self.plan.load_cap
        while not self.signals.stop.is_set() and len(self.intents) < self.plan.max_orders:
            if time.monotonic() > deadline:
                return
            started = time.monotonic()
            intent = self._intent(rng)
            await self._place(intent)
            if intent.order_id and intent.token == APPROVED:
                self._accepted_ok += 1
                if self._accepted_ok % self.plan.cancel_every == 0:
                    await asyncio.sleep(rng.uniform(0.0, 1.0))
                    await self._cancel(intent)
            await asyncio.sleep(max(0.0, self.plan.order_interval - (time.monotonic() - started)))

    async def tenant_worker(self) -> None:
        """Create tenants while the fault thread asks for them (around the admin and provisioner faults)."""
        deadline = time.monotonic() + self.plan.load_cap
        while not self.signals.stop.is_set() and time.monotonic() < deadline:
            if not self.signals.tenant_phase.is_set() or len(self.tenants) >= self.signals.tenant_allowance:
                await asyncio.sleep(0.2)
                continue
            subdomain = f"chaos-{uuid.uuid4().hex[:10]}"
            attempt = TenantAttempt(subdomain, "NO_ANSWER", None)
            self.tenants.append(attempt)
            body = {"name": f"Chaos {subdomain}", "subdomain": subdomain, "adminEmail": "head@example.com"}
            self._in_flight += 1
            self.signals.tenant_in_flight.set()
            try:
                response = await self.recorder.send(
                    "POST",
                    "/tenants",
                    route="POST /tenants",
                    json={**body, "adminPassword": "school-admin-pass"},
                    headers=self.admin,
                    seconds=self.tenant_budget + 5,
                )
            finally:
                self._in_flight -= 1
                if not self._in_flight:
                    self.signals.tenant_in_flight.clear()
            attempt.outcome = (
                "CREATED" if response is not None and response.status_code == 201 else error_code(response)
            )
            attempt.tenant_id = data_of(response).get("id") or _details_tenant_id(response)
            await asyncio.sleep(0.3)

    def outcomes(self) -> Counter[str]:
        return Counter(intent.outcome for intent in self.intents)


def _details_tenant_id(response: Any) -> str | None:
    try:
        return str(response.json()["error"]["details"]["tenantId"])
    except (AttributeError, ValueError, KeyError, TypeError):
        return None


async def sign_in(recorder: Recorder, email: str, password: str) -> dict[str, str]:
    response = await recorder.send(
        "POST", "/auth/login", route="POST /auth/login", json={"email": email, "password": password}
    )
    token = data_of(response).get("accessToken")
    if not token:
        raise RuntimeError(f"login of {email} failed: {response.text if response is not None else 'no answer'}")
    return {"Authorization": f"Bearer {token}"}


async def register(recorder: Recorder, tag: str, number: int) -> Customer:
    email = f"chaos-{tag}-{number}@example.com"
    body = {"email": email, "password": PASSWORD, "name": f"Chaos customer {number}"}
    response = await recorder.send("POST", "/auth/register", route="POST /auth/register", json=body)
    user_id = data_of(response).get("id")
    if response is None or response.status_code != 201 or not user_id:
        raise RuntimeError(f"registering {email} failed: {response.text if response is not None else 'no answer'}")
    return Customer(email, str(user_id), await sign_in(recorder, email, PASSWORD))


async def prepare(recorder: Recorder, plan: Plan, order_budget: float, tenant_budget: float) -> Load:
    """Sign the admin in, put the products on sale and register the customers (before any fault)."""
    tag = uuid.uuid4().hex[:8]
    admin = await sign_in(recorder, ADMIN["email"], ADMIN["password"])
    products = []
    for number in range(plan.products + 1):
        stock = plan.stock if number < plan.products else plan.scarce_stock
        body = {"sku": f"CHAOS-{tag}-{number}", "name": f"Chaos widget {number}", "price": 3.25, "stock": stock}
        response = await recorder.send("POST", "/products", route="POST /products", json=body, headers=admin)
        if response is None or response.status_code != 201:
            raise RuntimeError(f"creating a product failed: {response.text if response is not None else 'no answer'}")
        products.append(Product(str(data_of(response)["id"]), stock))
    gate = asyncio.Semaphore(4)

    async def one(number: int) -> Customer:
        async with gate:
            return await register(recorder, tag, number)

    customers = list(await asyncio.gather(*(one(n) for n in range(plan.customers))))
    return Load(plan, recorder, admin, customers, products, order_budget, tenant_budget)
