"""Accounts and sign-in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.gateway.api.params import SIGNED_IN
from apps.gateway.deps import PeersDep, SignedIn
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


@router.get("/users/me", response_model=Envelope[UserRead], responses=refusals(401, 404), dependencies=[SIGNED_IN])
async def me(claims: SignedIn, peers: PeersDep) -> JSONResponse:
    """The signed-in caller's profile."""
    return ok(await peers.profile(claims.subject))
