"""What every app's unit tests share: a fresh in-memory sidecar per test. Each app's own fixtures (the app
built with `create_app(settings, services=...)` on that sidecar, its stores) are in its folder's conftest."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeSidecar


@pytest.fixture
def sidecar() -> FakeSidecar:
    """The app's sidecar: its state, the events it published, the peers it reaches (`apps`)."""
    return FakeSidecar()
