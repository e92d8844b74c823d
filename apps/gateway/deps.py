"""What the gateway's routes receive: its peers, the caller's claims, role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apps.gateway.edge import VERIFIED_CLAIMS
from apps.gateway.peers import Peers
from servicekit import Forbidden, Unauthorized
from servicekit.tokens import Claims, TokenCodec


async def _peers(request: Request) -> Peers:
    peers: Peers = request.app.state.peers
    return peers


async def _claims(request: Request) -> Claims:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Sign in first: send Authorization: Bearer <token>.", code="AUTH_REQUIRED")
    verified: Claims | None = getattr(request.state, VERIFIED_CLAIMS, None)  # the rate limiter's check
    if verified is not None:
        return verified
    tokens: TokenCodec = request.app.state.tokens
    return tokens.verify(token.strip())


async def _admin(claims: Annotated[Claims, Depends(_claims)]) -> Claims:
    if claims.role != "admin":
        raise Forbidden("This needs the admin role.", code="ADMIN_ONLY")
    return claims


PeersDep = Annotated[Peers, Depends(_peers)]
SignedIn = Annotated[Claims, Depends(_claims)]
AdminOnly = Annotated[Claims, Depends(_admin)]
