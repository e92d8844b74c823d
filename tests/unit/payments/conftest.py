"""payments' unit-test fixtures: the app as `create_app` builds it, its services on the test's sidecar."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.payments.main import create_app
from apps.payments.settings import PaymentsSettings
from tests.unit.fakes import FakeSidecar
from tests.unit.payments.helpers import services_on


@pytest.fixture
def client(sidecar: FakeSidecar) -> TestClient:
    """The real app serving its services on `sidecar`: its lifespan waits for no sidecar and wires nothing."""
    return TestClient(create_app(PaymentsSettings(), services=services_on(sidecar)))
