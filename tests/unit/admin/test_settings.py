"""admin's settings."""

from __future__ import annotations

import pytest

from apps.admin.settings import AdminSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ID", "MAX_BODY_BYTES", "PUBSUB_NAME"):
        monkeypatch.delenv(name, raising=False)
    settings = AdminSettings()
    assert (settings.app_id, settings.pubsub_name, settings.max_body_bytes) == ("admin", "pubsub", 1024 * 1024)
