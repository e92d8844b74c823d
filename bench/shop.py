"""What the benchmark sets up through the gateway before it measures: customers, the admin, products."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "benchmark-password"  # noqa: S105 - throwaway accounts of one benchmark run
ADMIN_EMAIL = "admin@junction.local"
ADMIN_PASSWORD = "junction-admin"  # noqa: S105 - the development admin every stack seeds
PRODUCT_STOCK = 1_000_000
"""Each bench product's initial stock (catalog's maximum): no phase runs out."""


@dataclass(frozen=True)
class Customer:
    email: str
    user_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def data_of(response: httpx.Response, *, expect: int) -> dict[str, Any]:
    """The envelope's `data`, or a RuntimeError naming what came back instead."""
    if response.status_code != expect:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    data: dict[str, Any] = response.json()["data"]
    return data


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    answer = await client.post("/auth/login", json={"email": email, "password": password})
    return str(data_of(answer, expect=200)["accessToken"])


async def new_customer(client: httpx.AsyncClient, tag: str) -> Customer:
    email = f"bench-{tag}-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post("/auth/register", json={"email": email, "password": PASSWORD, "name": "Bench"})
    user_id = str(data_of(registered, expect=201)["id"])
    return Customer(email, user_id, await sign_in(client, email, PASSWORD))


async def new_customers(client: httpx.AsyncClient, tag: str, count: int, *, parallel: int = 4) -> list[Customer]:
    """`count` fresh customers, signed in; a few at a time (each registration hashes a password)."""
    gate = asyncio.Semaphore(parallel)

    async def one() -> Customer:
        async with gate:
            return await new_customer(client, tag)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def admin_auth(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)}"}


async def new_products(client: httpx.AsyncClient, admin: dict[str, str], tag: str, count: int) -> list[str]:
    """`count` products with PRODUCT_STOCK units each; their ids."""
    ids = []
    for n in range(count):
        body = {"sku": f"BENCH-{tag}-{n}", "name": f"Bench widget {n}", "price": 1.5, "stock": PRODUCT_STOCK}
        ids.append(str(data_of(await client.post("/products", json=body, headers=admin), expect=201)["id"]))
    return ids
