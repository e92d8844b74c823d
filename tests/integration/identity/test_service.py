"""identity's use cases against the real SqlUnitOfWork on a migrated SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apps.identity import service
from apps.identity.domain import Authenticate, EmailTaken, InvalidCredentials, RegisterUser, Role, UserNotFound
from apps.identity.service import UnitOfWorkFactory
from apps.identity.storage import outbox, users
from servicekit import EventEnvelope, ValidationFailed
from servicekit.tokens import TokenCodec

TOKENS = TokenCodec("k" * 32, ttl_seconds=600)

pytestmark = pytest.mark.anyio


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex}@example.com"


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_register_stores_user_and_records_user_registered(uow: UnitOfWorkFactory, engine: AsyncEngine) -> None:
    email = unique_email()
    user = await service.register_user(RegisterUser(email.upper(), "s3cret-pass", "  Grace   Hopper "), uow=uow)
    assert (user.email, user.name, user.role) == (email, "Grace Hopper", Role.CUSTOMER)
    assert "s3cret-pass" not in user.password_hash
    stored = await service.get_user(user.id, uow=uow)
    assert (stored.id, stored.email, stored.name, stored.role) == (user.id, email, "Grace Hopper", Role.CUSTOMER)
    assert stored.password_hash == user.password_hash
    async with engine.connect() as connection:
        [(topic, body)] = (await connection.execute(select(outbox.c.topic, outbox.c.body))).all()
    event = EventEnvelope.model_validate_json(body)
    assert topic == "user.registered"
    assert event.schema_version == 1
    assert event.payload == {"userId": user.id, "email": email, "name": "Grace Hopper", "role": "customer"}


async def test_same_email_in_another_case_is_taken_and_writes_nothing(
    uow: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    email = unique_email()
    await service.register_user(RegisterUser(email, "first-pass", "First"), uow=uow)
    with pytest.raises(EmailTaken) as caught:
        await service.register_user(RegisterUser(email.title(), "second-pass", "Second"), uow=uow)
    assert (caught.value.code, caught.value.status) == ("EMAIL_TAKEN", 409)
    assert await count(engine, users) == 1
    assert await count(engine, outbox) == 1


async def test_a_repeat_of_the_same_registration_answers_its_account_once(
    uow: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    email, key = unique_email(), uuid.uuid4().hex
    first = await service.register_user(RegisterUser(email, "first-pass", "First", idempotency_key=key), uow=uow)
    again = await service.register_user(RegisterUser(email, "first-pass", "First", idempotency_key=key), uow=uow)
    assert again.id == first.id
    assert (await count(engine, users), await count(engine, outbox)) == (1, 1)  # one account, one event


@pytest.mark.parametrize(
    "repeat",
    [
        RegisterUser("", "first-pass", "First", idempotency_key="another-key"),
        RegisterUser("", "first-pass", "First"),
        RegisterUser("", "guessed-pass", "First", idempotency_key="the-key"),
    ],
    ids=["another key", "no key", "the key with another password"],
)
async def test_anything_but_the_same_registration_is_email_taken(
    uow: UnitOfWorkFactory, engine: AsyncEngine, repeat: RegisterUser
) -> None:
    email = unique_email()
    await service.register_user(RegisterUser(email, "first-pass", "First", idempotency_key="the-key"), uow=uow)
    with pytest.raises(EmailTaken):
        await service.register_user(replace(repeat, email=email), uow=uow)
    assert await count(engine, users) == 1


@pytest.mark.parametrize(
    ("command", "code", "field"),
    [
        (RegisterUser("not-an-email", "good-password", "Name"), "INVALID_EMAIL", "email"),
        (RegisterUser("ok@example.com", "short", "Name"), "WEAK_PASSWORD", "password"),
        (RegisterUser("ok@example.com", "good-password", "   "), "INVALID_NAME", "name"),
        (RegisterUser("ok@example.com", "good-password", "x" * 101), "INVALID_NAME", "name"),
    ],
)
async def test_invalid_registration_is_refused_before_storage(
    uow: UnitOfWorkFactory, engine: AsyncEngine, command: RegisterUser, code: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await service.register_user(command, uow=uow)
    assert (caught.value.code, caught.value.details[0]["field"]) == (code, field)
    assert await count(engine, users) == 0
    assert await count(engine, outbox) == 0


async def test_authenticate_issues_a_token_for_the_user(uow: UnitOfWorkFactory) -> None:
    email = unique_email()
    user = await service.register_user(RegisterUser(email, "right-password", "Ada", Role.ADMIN), uow=uow)
    issued = await service.authenticate(Authenticate(f"  {email.upper()} ", "right-password"), uow=uow, tokens=TOKENS)
    assert issued.expires_in == 600
    claims = TOKENS.verify(issued.access_token)
    assert (claims.subject, claims.email, claims.role) == (user.id, email, "admin")


@pytest.mark.parametrize(
    "attempt",
    [
        lambda email: Authenticate(email, "wrong-password"),
        lambda email: Authenticate(unique_email(), "right-password"),
        lambda email: Authenticate("not an email", "right-password"),
        lambda email: Authenticate(email, ""),
    ],
    ids=["wrong-password", "unknown-email", "junk-email", "empty-password"],
)
async def test_bad_credentials_all_look_the_same(
    uow: UnitOfWorkFactory, attempt: Callable[[str], Authenticate]
) -> None:
    email = unique_email()
    await service.register_user(RegisterUser(email, "right-password", "Ada"), uow=uow)
    with pytest.raises(InvalidCredentials) as caught:
        await service.authenticate(attempt(email), uow=uow, tokens=TOKENS)
    assert (caught.value.code, caught.value.status) == ("INVALID_CREDENTIALS", 401)
    assert caught.value.message == "The email or password is wrong."


async def test_get_unknown_user_is_user_not_found(uow: UnitOfWorkFactory) -> None:
    with pytest.raises(UserNotFound) as caught:
        await service.get_user(uuid.uuid4().hex, uow=uow)
    assert (caught.value.code, caught.value.status) == ("USER_NOT_FOUND", 404)


async def test_ensure_admin_seeds_once_and_keeps_the_first_password(
    uow: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    email = unique_email()
    await service.ensure_admin(RegisterUser(email, "admin-password", "Administrator", Role.ADMIN), uow=uow)
    await service.ensure_admin(RegisterUser(email, "other-password", "Someone Else", Role.ADMIN), uow=uow)
    assert await count(engine, users) == 1
    assert await count(engine, outbox) == 1
    issued = await service.authenticate(Authenticate(email, "admin-password"), uow=uow, tokens=TOKENS)
    assert TOKENS.verify(issued.access_token).role == "admin"
    with pytest.raises(InvalidCredentials):
        await service.authenticate(Authenticate(email, "other-password"), uow=uow, tokens=TOKENS)


async def test_ensure_admin_still_refuses_invalid_input(uow: UnitOfWorkFactory, engine: AsyncEngine) -> None:
    with pytest.raises(ValidationFailed):
        await service.ensure_admin(RegisterUser(unique_email(), "short", "Admin", Role.ADMIN), uow=uow)
    assert await count(engine, users) == 0


async def test_unique_index_turns_a_racing_duplicate_into_email_taken(
    uow: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    email = unique_email()
    first = await service.register_user(RegisterUser(email, "first-pass", "First"), uow=uow)
    racing = replace(first, id=uuid.uuid4().hex, name="Racer")
    async with uow() as work:  # as if the by_email check had run before the first commit
        with pytest.raises(EmailTaken):
            await work.users.add(racing)
    assert await count(engine, users) == 1
