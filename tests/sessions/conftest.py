"""Session fixtures: `store` is each store sessions can live in, empty.

Redis and PostgreSQL run when `TRIVIUM_TEST_REDIS_URL` and `TRIVIUM_TEST_POSTGRES_URL`
are set (skipped otherwise); keys get a per-test prefix and tables a per-run name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trivium.stores import MemoryStore
from trivium.stores import Store

RUN = uuid.uuid4().hex[:8]
"""Suffix of this run's table names and Redis prefixes."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _env_url(variable: str, example: str) -> str:
    url = os.environ.get(variable, "")
    if not url:
        pytest.skip(f"needs {variable} (e.g. {example})")
    return url


@pytest.fixture(params=["memory", "sqlite", "redis", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each available store, empty; dropped and closed after the test."""
    kind: str = request.param
    if kind == "memory":
        yield MemoryStore()
        return
    if kind == "redis":
        from trivium.stores import RedisStore

        url = _env_url("TRIVIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        redis = RedisStore(url, prefix=f"trivium-test:{RUN}:{uuid.uuid4().hex[:6]}:")
        try:
            yield redis
        finally:
            keys = [key async for key in redis.client.scan_iter(match=f"{redis.prefix}*")]
            if keys:
                await redis.client.delete(*keys)
            await redis.close()
        return
    from trivium.db import Database
    from trivium.stores import DatabaseStore

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}"
    else:
        url = _env_url("TRIVIUM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
    table = DatabaseStore(Database(url), table=f"trivium_sessions_{RUN}")
    await table.db.create_all(table.table.metadata)
    try:
        yield table
    finally:
        await table.db.drop_all(table.table.metadata)
        await table.db.dispose()
