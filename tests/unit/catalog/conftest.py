"""catalog's unit-test fixtures: its store on the test's sidecar, and the app as `create_app` builds it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apps.catalog.deps import CatalogServices
from apps.catalog.main import create_app
from apps.catalog.settings import CatalogSettings
from apps.catalog.storage import DaprStateCatalogRepository
from tests.unit.catalog.helpers import new_store
from tests.unit.fakes import FakeSidecar


@pytest.fixture
def store(sidecar: FakeSidecar) -> DaprStateCatalogRepository:
    """catalog's repository on `sidecar`, its events staged in the state outbox there."""
    return new_store(sidecar)[0]


@pytest.fixture
def client(store: DaprStateCatalogRepository) -> TestClient:
    """The real app serving `store`: its lifespan waits for no sidecar and wires nothing."""
    return TestClient(create_app(CatalogSettings(), services=CatalogServices(catalog=store)))
