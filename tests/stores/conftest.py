"""Store fixtures: every store test runs on memory, SQLite, and Redis/PostgreSQL/MariaDB when set.

Set `TRIVIUM_TEST_REDIS_URL`, `TRIVIUM_TEST_POSTGRES_URL` and `TRIVIUM_TEST_MYSQL_URL` to
run against real servers. Redis keys get a per-run prefix and database stores a per-run
table, so parallel runs against one server do not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trivium.db import Database
from trivium.stores import DatabaseStore
from trivium.stores import MemoryStore
from trivium.stores import RedisStore
from trivium.stores import Store

RUN = uuid.uuid4().hex[:8]
"""Suffix of this run's table names and Redis prefixes."""

DATABASES = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def env_url(variable: str, example: str) -> str:
    """Return the URL in `variable`, or skip the test saying how to enable it."""
    url = os.environ.get(variable, "")
    if not url:
        pytest.skip(f"needs {variable} (e.g. {example})")
    return url


async def database_store(url: str) -> DatabaseStore:
    """Return a store on this run's own table of `url`, created."""
    store = DatabaseStore(Database(url), table=f"trivium_store_{RUN}")
    await store.db.create_all(store.table.metadata)
    return store


async def cleanup(store: Store) -> None:
    """Drop what a test store left behind and close it."""
    if isinstance(store, DatabaseStore):
        await store.db.drop_all(store.table.metadata)
        await store.db.dispose()
    elif isinstance(store, RedisStore):
        keys = [key async for key in store.client.scan_iter(match=f"{store.prefix}*")]
        if keys:
            await store.client.delete(*keys)
    await store.close()


@pytest.fixture(params=["memory", "sqlite", "redis", "postgresql", "mysql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each available store, empty."""
    kind: str = request.param
    made: Store
    if kind == "memory":
        made = MemoryStore()
    elif kind == "redis":
        url = env_url("TRIVIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        made = RedisStore(url, prefix=f"trivium-test:{RUN}:{uuid.uuid4().hex[:6]}:")
    elif kind == "sqlite":
        made = await database_store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    else:
        made = await database_store(env_url(DATABASES[kind], f"{kind}://user@127.0.0.1/test"))
    try:
        yield made
    finally:
        await cleanup(made)
