"""admin's unit-test fixtures: tenant onboarding over fakes (helpers.onboarding_kit builds one to order)."""

from __future__ import annotations

import pytest

from tests.unit.admin.helpers import Kit, onboarding_kit


@pytest.fixture
def kit() -> Kit:
    """Onboarding on a recording sidecar whose provisioner answers, with in-memory databases and admins."""
    return onboarding_kit()
