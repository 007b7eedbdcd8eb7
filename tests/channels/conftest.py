"""Channel fixtures: every backend test runs in memory, and on Redis when it is set.

Set `TRIVIUM_TEST_REDIS_URL` to run the Redis backend; each test gets its own key
prefix, and its keys are deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from collections.abc import Iterator

import pytest

from trivium.channels import Backend
from trivium.channels import MemoryBackend
from trivium.channels import RedisBackend

REDIS_URL = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
"""The Redis server of the Redis-backed tests ('' skips them)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def redis_url() -> str:
    """Return the test Redis URL, or skip saying how to enable the test."""
    if not REDIS_URL:
        pytest.skip("needs TRIVIUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    return REDIS_URL


def new_prefix() -> str:
    """A key prefix of its own for one test."""
    return f"trivium-test:channels:{uuid.uuid4().hex[:10]}:"


def drop_keys(url: str, prefix: str) -> None:
    """Delete the keys a test left under `prefix`."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
def make_backend(request: pytest.FixtureRequest) -> Iterator[Callable[[], Backend]]:
    """Build backends of one kind; Redis ones share a prefix (like processes of one app)."""
    if request.param == "memory":
        yield MemoryBackend
        return
    url = redis_url()
    prefix = new_prefix()

    def make() -> Backend:
        return RedisBackend(url, prefix=prefix, health_interval=0.5, max_backoff=0.2)

    yield make
    drop_keys(url, prefix)
