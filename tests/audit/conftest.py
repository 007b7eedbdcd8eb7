"""Audit fixtures: every test runs on SQLite, and on PostgreSQL and MariaDB when configured.

`TRIVIUM_TEST_POSTGRES_URL` and `TRIVIUM_TEST_MYSQL_URL` name the servers (see
tests/db/conftest.py); tables are created and dropped around each test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import tests.audit.models  # noqa: F401 - the tables the tests create
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.audit import Audit
from trivium.db import Database
from trivium.db import Model

BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _create(db: Database) -> None:
    await db.create_all()
    await db.dispose()


async def _drop(db: Database) -> None:
    await db.drop_all(Model.metadata)
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A `Database` on each available backend with the tables created (engine not started)."""
    backend: str = request.param
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        variable = BACKENDS[backend]
        url = os.environ.get(variable, "")
        if not url:
            pytest.skip(f"{backend} tests need {variable} (e.g. {backend}://user@127.0.0.1/test)")
    database = Database(url)
    anyio.run(_create, database)
    yield database
    anyio.run(_drop, database)


@pytest.fixture
def audit(db: Database) -> Iterator[Audit]:
    """An `Audit` of `db` (not installed on an app)."""
    trail = Audit(db)
    yield trail
    trail.close()


@pytest.fixture
async def session(db: Database, audit: Audit) -> AsyncIterator[AsyncSession]:
    """A session on the audited `db` in the test's event loop; the engine is disposed afterwards."""
    del audit
    async with db.sessionmaker() as session:
        yield session
    await db.dispose()
