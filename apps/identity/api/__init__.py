"""identity's internal HTTP edge, reached only through its sidecar (Dapr's AppCallback); its gRPC edge is `grpc`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from apps.identity import service
from apps.identity.deps import Services
from apps.identity.domain import Authenticate, RegisterUser
from apps.identity.schemas import LoginRequest, TokenRead, UserCreate, UserRead
from servicekit import ok
from servicekit.idempotency import IdempotencyKey

router = APIRouter(tags=["identity"])


@router.post("/users", status_code=201)
async def register(body: UserCreate, services: Services, key: IdempotencyKey) -> JSONResponse:
    """Open a customer account; a repeat with the same Idempotency-Key answers the same account."""
    command = RegisterUser(body.email, body.password, body.name, idempotency_key=key)
    user = await service.register_user(command, uow=services.uow)
    return ok(UserRead.of(user).model_dump(by_alias=True), status=201)


@router.post("/sessions")
async def login(body: LoginRequest, services: Services) -> JSONResponse:
    """Exchange an email and password for an access token."""
    issued = await service.authenticate(
        Authenticate(body.email, body.password), uow=services.uow, tokens=services.tokens
    )
    token = TokenRead(access_token=issued.access_token, expires_in=issued.expires_in)
    return ok(token.model_dump(by_alias=True))


@router.get("/users/{user_id}")
async def get_user(user_id: str, services: Services) -> JSONResponse:
    """Look a user up by id (for the gateway and other services)."""
    user = await service.get_user(user_id, uow=services.uow)
    return ok(UserRead.of(user).model_dump(by_alias=True))
