"""What the gateway's routes receive, built once in the lifespan (main.py): its peers, the caller's claims."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from apps.gateway.edge import VERIFIED_CLAIMS
from apps.gateway.edge.ratelimit import RateLimiter
from apps.gateway.errors import AdminRoleRequired, AuthRequired
from apps.gateway.feed import FeedHub
from apps.gateway.peers import Peers
from apps.gateway.registry import ServiceRegistry
from apps.gateway.traces import NoTraceStore, TraceStore
from servicekit.deps import services_of
from servicekit.health import ComponentList
from servicekit.read_cache import CachedReads
from servicekit.tokens import Claims, TokenCodec


@dataclass(frozen=True)
class GatewayServices:
    """The routes' peers, token codec, read caches and event feed; the edge middleware reads the limiter and codec."""

    peers: Peers
    tokens: TokenCodec
    limiter: RateLimiter
    components: ComponentList | None = None
    """The gateway's own sidecar components, for the admins' health report."""
    reads: CachedReads = field(default_factory=CachedReads)
    """The product reads' cache (apps.gateway.cache); by default none: every read asks catalog."""
    profiles: CachedReads = field(default_factory=CachedReads)
    """The profiles' cache (/users/me, apps.gateway.cache); by default none: every read asks identity."""
    feed: FeedHub = field(default_factory=FeedHub)
    """The live event feed's clients (apps.gateway.feed), fed by the event edge."""
    traces: TraceStore = field(default_factory=NoTraceStore)
    """Where the trace view reads traces (apps.gateway.traces); by default none: every read answers 503."""


Services = Annotated[GatewayServices, Depends(services_of(GatewayServices))]


async def _peers(services: Services) -> Peers:
    return services.peers


async def _feed(services: Services) -> FeedHub:
    return services.feed


async def _traces(services: Services) -> TraceStore:
    return services.traces


async def _registry(services: Services) -> ServiceRegistry:
    return services.peers.registry


async def _claims(request: Request, services: Services) -> Claims:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthRequired("Sign in first: send Authorization: Bearer <token>.")
    verified: Claims | None = getattr(request.state, VERIFIED_CLAIMS, None)  # the rate limiter's check
    if verified is not None:
        return verified
    return services.tokens.verify(token.strip())


async def _admin(claims: Annotated[Claims, Depends(_claims)]) -> Claims:
    if claims.role != "admin":
        raise AdminRoleRequired("This needs the admin role.")
    return claims


FeedDep = Annotated[FeedHub, Depends(_feed)]
PeersDep = Annotated[Peers, Depends(_peers)]
RegistryDep = Annotated[ServiceRegistry, Depends(_registry)]
TracesDep = Annotated[TraceStore, Depends(_traces)]
SignedIn = Annotated[Claims, Depends(_claims)]
AdminOnly = Annotated[Claims, Depends(_admin)]
