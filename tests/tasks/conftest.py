"""Task fixtures: the memory broker always; Redis when `TRIVIUM_TEST_REDIS_URL` is set."""

from __future__ import annotations

import os
import uuid

import pytest
from tests.db.conftest import anyio_backend

__all__ = ["anyio_backend", "clean_redis", "redis_url"]


@pytest.fixture
def redis_url() -> str:
    """The test Redis URL (tests needing it skip without `TRIVIUM_TEST_REDIS_URL`)."""
    url = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("Redis task tests need TRIVIUM_TEST_REDIS_URL (redis://127.0.0.1:6379/0)")
    return url


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so runs against one Redis do not collide."""
    return f"test-tasks:{uuid.uuid4().hex[:8]}"


async def clean_redis(url: str, prefix: str) -> None:
    """Delete the keys a test left under `prefix` in the Redis at `url`."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
