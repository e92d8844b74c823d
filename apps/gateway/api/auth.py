"""Accounts and sign-in; the caller's profile is read through the gateway's cache (apps.gateway.cache)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.gateway.api.cached import CacheControl, answer, cached_responses, no_cache
from apps.gateway.api.params import SIGNED_IN
from apps.gateway.cache import profile_key, read_public
from apps.gateway.deps import PeersDep, Services, SignedIn
from apps.gateway.schemas import Envelope, LoginRequest, RegisterRequest, TokenRead, UserRead, refusals
from servicekit import ok
from servicekit.idempotency import IDEMPOTENCY_KEY_HEADER, RequestIdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/register", status_code=201, response_model=Envelope[UserRead], responses=refusals(400, 409, 413, 422)
)
async def register(body: RegisterRequest, peers: PeersDep, key: RequestIdempotencyKey) -> JSONResponse:
    """Open a customer account; the same Idempotency-Key and body answer the same account."""
    headers = {IDEMPOTENCY_KEY_HEADER: key}
    created = await peers.call(peers.apps.identity, "POST", "/users", json=body.model_dump(), headers=headers)
    return ok(created, status=201)


@router.post("/auth/login", response_model=Envelope[TokenRead], responses=refusals(400, 401, 413, 422))
async def login(body: LoginRequest, peers: PeersDep) -> JSONResponse:
    """Exchange an email and password for a bearer token."""
    return ok(await peers.call(peers.apps.identity, "POST", "/sessions", json=body.model_dump()))


@router.get(
    "/users/me",
    response_model=Envelope[UserRead],
    responses={**refusals(401, 404), **cached_responses("identity")},
    dependencies=[SIGNED_IN],
)
async def me(claims: SignedIn, services: Services, cache_control: CacheControl = None) -> JSONResponse:
    """The signed-in caller's profile; a kept copy answers, marked stale, while identity does not."""
    peers = services.peers

    async def fetch() -> Any:
        return await peers.profile(claims.subject)

    key = profile_key(claims.subject)
    return answer(await read_public(key, fetch, reads=services.profiles, bypass=no_cache(cache_control)))
