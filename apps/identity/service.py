"""identity's use cases; every dependency arrives as a keyword argument."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.identity.domain import (
    NAME_MAX,
    Authenticate,
    EmailTaken,
    InvalidCredentials,
    RegisterUser,
    User,
    UserNotFound,
    new_user,
)
from apps.identity.storage import UnitOfWork
from servicekit.accounts import check_password, clean_name, normalise_email
from servicekit.events import new_event
from servicekit.passwords import hash_password, password_matches
from servicekit.tokens import TokenCodec

UnitOfWorkFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


async def register_user(command: RegisterUser, *, uow: UnitOfWorkFactory) -> User:
    """Open an account and record `user.registered` in the same transaction."""
    email = normalise_email(command.email)
    name = clean_name(command.name, longest=NAME_MAX)
    check_password(command.password)
    async with uow() as work:
        existing = await work.users.by_email(email)
        if existing is not None:
            return await _repeated_registration(existing, command)
        user, registered = new_user(
            command, email=email, name=name, password_hash=await hash_password(command.password)
        )
        try:
            await work.users.add(user)
        except EmailTaken:  # a concurrent registration won: maybe the same one, retried
            raced = await work.users.by_email(email)
            if raced is None:
                raise
            return await _repeated_registration(raced, command)
        await work.record(registered.topic, new_event(registered.payload()))
        await work.commit()
    return user


async def _repeated_registration(existing: User, command: RegisterUser) -> User:
    """Answer the account a repeat of the same registration opened; any other is EMAIL_TAKEN.

    A sidecar retrying a registration whose answer was lost sends the same key and body, so it
    gets its account back instead of EMAIL_TAKEN; the password must match too, so a leaked key
    alone reveals nothing.
    """
    if existing.opened_by(command) and await password_matches(command.password, existing.password_hash):
        return existing
    raise EmailTaken("An account with this email already exists.")


async def authenticate(command: Authenticate, *, uow: UnitOfWorkFactory, tokens: TokenCodec) -> IssuedToken:
    """Check credentials and issue an access token; every failure looks the same to the caller."""
    try:
        email = normalise_email(command.email)
    except Exception as exc:
        raise InvalidCredentials("The email or password is wrong.") from exc
    async with uow() as work:
        user = await work.users.by_email(email)
    if not await password_matches(command.password, user.password_hash if user else None) or user is None:
        raise InvalidCredentials("The email or password is wrong.")
    token = tokens.issue(subject=user.id, email=user.email, role=user.role.value)
    return IssuedToken(token, tokens.ttl_seconds)


async def get_user(user_id: str, *, uow: UnitOfWorkFactory) -> User:
    async with uow() as work:
        user = await work.users.by_id(user_id)
    if user is None:
        raise UserNotFound("No such user.")
    return user


async def ensure_admin(command: RegisterUser, *, uow: UnitOfWorkFactory) -> None:
    """Seed the admin account once; an existing account with that email is left as it is."""
    try:
        await register_user(command, uow=uow)
    except EmailTaken:
        return
