"""identity's pure model: new users and their event (servicekit.accounts' tests check emails, passwords, names)."""

from __future__ import annotations

from apps.identity.domain import RegisterUser, Role, new_user


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
