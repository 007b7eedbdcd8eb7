"""Rate limit fixtures: every test runs on memory, and on Redis when it is configured.

Set `TRIVIUM_TEST_REDIS_URL` to run the Redis backend; each test gets its own key prefix.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from trivium.ratelimit import RateLimits

REDIS_URL = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")

LimitsFactory = Callable[..., RateLimits]


@pytest.fixture
def redis_url() -> str:
    """The test Redis URL (tests needing it skip without `TRIVIUM_TEST_REDIS_URL`)."""
    if not REDIS_URL:
        pytest.skip("needs TRIVIUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def make_limits(request: pytest.FixtureRequest) -> LimitsFactory:
    """Build a `RateLimits` on the backend under test (its Redis store closes at shutdown)."""
    if request.param == "memory":
        return lambda **options: RateLimits(**options)
    url = request.getfixturevalue("redis_url")
    prefix = f"rl-test-{uuid.uuid4().hex[:8]}:"

    def build(**options: Any) -> RateLimits:
        return RateLimits(url, prefix=prefix, **options)

    return build
