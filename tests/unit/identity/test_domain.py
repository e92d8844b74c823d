"""identity's pure model: canonical emails, the password policy, tidy names, new users and their event."""

from __future__ import annotations

import pytest

from apps.identity.domain import (
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    RegisterUser,
    Role,
    check_password_policy,
    clean_name,
    new_user,
    normalise_email,
)
from servicekit import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  grace.hopper@example.org \n", "grace.hopper@example.org"),
        ("MiXeD.Local+Tag@Sub.Example.Net", "mixed.local+tag@sub.example.net"),
    ],
)
def test_normalise_email_returns_one_lower_case_form(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "not-an-email", "a@", "@example.com", "a b@example.com", "a@@example.com"])
def test_normalise_email_rejects_junk(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_email(raw)
    assert caught.value.code == "INVALID_EMAIL"
    assert caught.value.status == 422
    assert caught.value.details[0]["field"] == "email"


@pytest.mark.parametrize("length", [PASSWORD_MIN, PASSWORD_MIN + 1, PASSWORD_MAX])
def test_password_within_bounds_is_accepted(length: int) -> None:
    check_password_policy("p" * length)


@pytest.mark.parametrize("length", [0, PASSWORD_MIN - 1, PASSWORD_MAX + 1])
def test_password_outside_bounds_is_weak(length: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_password_policy("p" * length)
    assert caught.value.code == "WEAK_PASSWORD"
    assert caught.value.details == [{"field": "password", "message": caught.value.message}]
    assert str(PASSWORD_MIN) in caught.value.message and str(PASSWORD_MAX) in caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Grace   Hopper ", "Grace Hopper"),
        ("Ada\tLovelace\n", "Ada Lovelace"),
        ("Alan", "Alan"),
    ],
)
def test_clean_name_collapses_whitespace(raw: str, expected: str) -> None:
    assert clean_name(raw) == expected


def test_clean_name_measures_the_collapsed_name() -> None:
    padded = "a" + " " * 50 + "b" * (NAME_MAX - 2)
    assert clean_name(padded) == "a " + "b" * (NAME_MAX - 2)


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "x" * (NAME_MAX + 1)])
def test_clean_name_rejects_empty_or_too_long(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_name(raw)
    assert caught.value.code == "INVALID_NAME"
    assert caught.value.details[0]["field"] == "name"


def test_new_user_and_its_registered_event_agree() -> None:
    command = RegisterUser("ADA@example.com", "irrelevant", "raw name", Role.ADMIN)
    user, registered = new_user(command, email="ada@example.com", name="Ada", password_hash="hash")
    assert (user.email, user.name, user.role, user.password_hash) == ("ada@example.com", "Ada", Role.ADMIN, "hash")
    assert user.created_at.tzinfo is not None
    assert registered.topic == "user.registered"
    assert registered.payload() == {"userId": user.id, "email": "ada@example.com", "name": "Ada", "role": "admin"}


def test_new_users_get_distinct_ids() -> None:
    command = RegisterUser("a@example.com", "pw", "A")
    first, _ = new_user(command, email="a@example.com", name="A", password_hash="h")
    second, _ = new_user(command, email="a@example.com", name="A", password_hash="h")
    assert first.id != second.id
    assert first.role is Role.CUSTOMER
