"""analytics' unit-test fixtures: the app as `create_app` builds it, its services on the test's sidecar."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.analytics.main import create_app
from apps.analytics.settings import AnalyticsSettings
from tests.unit.analytics.helpers import services_on
from tests.unit.fakes import FakeSidecar


@pytest.fixture
def client(sidecar: FakeSidecar) -> TestClient:
    """The real app serving its services on `sidecar`: its lifespan waits for no sidecar and wires nothing."""
    return TestClient(create_app(AnalyticsSettings(), services=services_on(sidecar)))
