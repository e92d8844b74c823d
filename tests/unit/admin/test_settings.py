"""admin's settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from apps.admin.settings import AdminSettings

NAMES = (
    "APP_ID",
    "MAX_BODY_BYTES",
    "PUBSUB_NAME",
    "PROVISIONER_APP_ID",
    "PROVISIONING_SECRETSTORE_NAME",
    "TENANT_DATABASE_URL_TEMPLATE",
    "PROVISIONING_STALE_SECONDS",
    "STARTUP_RECOVERY_STALE_SECONDS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = AdminSettings()
    assert (settings.app_id, settings.pubsub_name, settings.max_body_bytes) == ("admin", "pubsub", 1024 * 1024)
    assert (settings.provisioner_app_id, settings.provisioning_secretstore_name) == (
        "provisioner",
        "provisioning-secrets",
    )
    assert settings.tenant_database_url_template == "sqlite+aiosqlite:///.data/tenants/{subdomain}.db"
    assert settings.provisioning_wait_seconds == 60


def test_template_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    template = "postgresql+asyncpg://junction:pw@127.0.0.1:5432/tenant_{subdomain}"
    monkeypatch.setenv("TENANT_DATABASE_URL_TEMPLATE", template)
    assert AdminSettings().tenant_database_url_template == template


@pytest.mark.parametrize(
    "template",
    ["sqlite+aiosqlite:///.data/tenants/one.db", "postgresql+asyncpg://h/{subdomain}", "mysql://h/{subdomain}"],
)
def test_a_template_without_one_database_per_subdomain_is_refused(
    monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    monkeypatch.setenv("TENANT_DATABASE_URL_TEMPLATE", template)
    with pytest.raises(ValidationError, match="tenant"):
        AdminSettings()
