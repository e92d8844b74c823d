"""provisioner's integration fixtures: the app with its real migrator, as `create_app` builds it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.provisioner.deps import ProvisionerServices
from apps.provisioner.domain import CallerPolicy
from apps.provisioner.main import create_app
from apps.provisioner.settings import ProvisionerSettings
from apps.provisioner.storage import AlembicSchemaMigrator
from tests.integration.provisioner.helpers import KEY


@pytest.fixture
def client() -> TestClient:
    """provisioner's real app and migrator; its lifespan reads no secret store (no sidecar) and wires nothing."""
    services = ProvisionerServices(
        migrator=AlembicSchemaMigrator(), callers=CallerPolicy(admin_app_id="admin", key=KEY)
    )
    return TestClient(create_app(ProvisionerSettings(APP_ID="provisioner"), services=services))
