"""identity's settings refuse the development admin (and an open app) in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from apps.identity.settings import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, IdentitySettings

APP_TOKEN = "app-token-" + "z" * 16


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JUNCTION_ENV", "APP_API_TOKEN", "JUNCTION_ADMIN_EMAIL", "JUNCTION_ADMIN_PASSWORD", "APP_ID"):
        monkeypatch.delenv(name, raising=False)


def production(monkeypatch: pytest.MonkeyPatch, *, email: str | None = None, password: str | None = None) -> None:
    monkeypatch.setenv("JUNCTION_ENV", "production")
    monkeypatch.setenv("APP_API_TOKEN", APP_TOKEN)
    monkeypatch.setenv("DAPR_API_TOKEN", "dapr-" + APP_TOKEN)
    if email is not None:
        monkeypatch.setenv("JUNCTION_ADMIN_EMAIL", email)
    if password is not None:
        monkeypatch.setenv("JUNCTION_ADMIN_PASSWORD", password)


def test_development_accepts_the_default_admin() -> None:
    settings = IdentitySettings()
    assert not settings.is_production
    assert settings.app_id == "identity"
    assert settings.admin_email == DEFAULT_ADMIN_EMAIL
    assert settings.admin_password.get_secret_value() == DEFAULT_ADMIN_PASSWORD


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (None, None),
        ("ops@example.com", None),
        (None, "a-real-admin-password"),
    ],
    ids=["both-defaults", "default-password", "default-email"],
)
def test_production_refuses_default_admin_credentials(
    monkeypatch: pytest.MonkeyPatch, email: str | None, password: str | None
) -> None:
    production(monkeypatch, email=email, password=password)
    with pytest.raises(ValidationError, match="JUNCTION_ADMIN_PASSWORD"):
        IdentitySettings()


def test_production_accepts_own_admin_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, email="ops@example.com", password="a-real-admin-password")
    settings = IdentitySettings()
    assert settings.is_production
    assert settings.admin_email == "ops@example.com"
    assert settings.admin_password.get_secret_value() == "a-real-admin-password"
    assert settings.app_api_token is not None and settings.app_api_token.get_secret_value() == APP_TOKEN


def test_production_without_app_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, email="ops@example.com", password="a-real-admin-password")
    monkeypatch.delenv("APP_API_TOKEN")
    with pytest.raises(ValidationError, match="APP_API_TOKEN"):
        IdentitySettings()


def test_production_without_dapr_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    production(monkeypatch, email="ops@example.com", password="a-real-admin-password")
    monkeypatch.delenv("DAPR_API_TOKEN")
    with pytest.raises(ValidationError, match="DAPR_API_TOKEN"):
        IdentitySettings()


def test_keyword_arguments_are_checked_too() -> None:
    with pytest.raises(ValidationError, match="defaults are refused in production"):
        IdentitySettings(JUNCTION_ENV="production", app_api_token=APP_TOKEN, dapr_api_token=APP_TOKEN)


@pytest.mark.parametrize("ttl", [59, 86401])
def test_token_lifetime_is_bounded(ttl: int) -> None:
    with pytest.raises(ValidationError):
        IdentitySettings(token_ttl_seconds=ttl)
