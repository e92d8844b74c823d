"""The gateway's unit-test fixtures: rate limiters over tiers written as the gateway reads them (helpers.py
builds the app itself around test services, and signs the callers' tokens)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from limits.aio.storage import MemoryStorage

from apps.gateway.edge.ratelimit import RateLimiter, load_tiers
from tests.unit.gateway.helpers import LimiterOf


@pytest.fixture
def limiter_of(tmp_path: Path) -> LimiterOf:
    """Build limiters from YAML text: each written to its own file and loaded as the gateway loads its tiers."""

    def build(tiers_yaml: str) -> RateLimiter:
        path = tmp_path / f"tiers-{uuid.uuid4().hex}.yaml"
        path.write_text(tiers_yaml)
        return RateLimiter(load_tiers(path), MemoryStorage())

    return build
