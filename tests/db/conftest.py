"""Database fixtures: every data test runs on SQLite, and on PostgreSQL and MariaDB when configured.

Set `TRIVIUM_TEST_POSTGRES_URL` (e.g. `postgresql://postgres@127.0.0.1:5432/test`) and
`TRIVIUM_TEST_MYSQL_URL` (e.g. `mysql://root@127.0.0.1:3306/test`) to run against real
servers; a configured server that cannot be reached fails the run instead of skipping.
Test models use table names with a per-run suffix, and the tables a test's module uses are
created and dropped around each test, so parallel runs against one server do not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.tables import create_used_tables
from tests.tables import drop_existing_tables

from trivium.db import Database

collect_ignore = ["plugin_project"]
"""A user's project that test_testing_plugin.py copies and runs in its own pytest."""

RUN = uuid.uuid4().hex[:8]
"""Suffix of this run's table names."""

BACKENDS = {
    "postgresql": "TRIVIUM_TEST_POSTGRES_URL",
    "mysql": "TRIVIUM_TEST_MYSQL_URL",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A `Database` on each available backend, with the tables the test's module uses created.

    See `tests/tables.py`: a test module gets its own models' tables and the batteries',
    not every model of the run (the engine is not started).
    """
    backend: str = request.param
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        variable = BACKENDS[backend]
        url = os.environ.get(variable, "")
        if not url:
            pytest.skip(f"{backend} tests need {variable} (e.g. {backend}://user@127.0.0.1/test)")
    database = Database(url)
    anyio.run(create_used_tables, database, request.module)
    yield database
    anyio.run(drop_existing_tables, database)


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session on `db` in the test's event loop; the engine is disposed afterwards."""
    async with db.sessionmaker() as session:
        yield session
    await db.dispose()
