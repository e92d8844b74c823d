"""The two accounts a fuzz run signs in with: a fresh customer and the seeded development admin."""

from __future__ import annotations

import uuid

import httpx

from apps.identity.settings import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD


def _token(client: httpx.Client, email: str, password: str) -> str:
    login = client.post("/auth/login", json={"email": email, "password": password})
    if login.status_code != 200:
        raise RuntimeError(f"signing in as {email} failed: {login.status_code} {login.text}")
    token: str = login.json()["data"]["accessToken"]
    return token


def sign_in(gateway_url: str) -> dict[str, str]:
    """Register a customer, sign in as it and as the admin; the tokens by role."""
    email, password = f"fuzz-{uuid.uuid4().hex[:12]}@example.com", "fuzzing horse battery"
    with httpx.Client(base_url=f"{gateway_url}/api/v1", timeout=30) as client:
        registered = client.post("/auth/register", json={"email": email, "password": password, "name": "Fuzz"})
        if registered.status_code != 201:
            raise RuntimeError(f"registering the fuzz customer failed: {registered.status_code} {registered.text}")
        return {
            "customer": _token(client, email, password),
            "admin": _token(client, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
        }
