"""notifications' unit-test fixtures: the app as `create_app` builds it, its services on the test's sidecar."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.notifications.main import create_app
from apps.notifications.settings import NotificationsSettings
from tests.unit.fakes import FakeSidecar
from tests.unit.notifications.helpers import services_on


@pytest.fixture
def client(sidecar: FakeSidecar) -> TestClient:
    """The real app serving its services on `sidecar`: its lifespan waits for no sidecar and wires nothing."""
    return TestClient(create_app(NotificationsSettings(), services=services_on(sidecar)))
